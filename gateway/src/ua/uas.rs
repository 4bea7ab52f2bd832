//! The answering side (being written).
