//! The calling side (being written).
