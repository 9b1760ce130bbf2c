//! PLACEHOLDER — the JSON data formats (to be written).
