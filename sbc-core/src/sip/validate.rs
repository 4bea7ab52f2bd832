//! Request and response validation after parsing (being written).
