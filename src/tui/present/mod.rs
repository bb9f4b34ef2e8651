//! Line builders shared by `update` (which scrolls and clamps by them) and the view (which
//! draws them): no ratatui here, only semantic spans, so the app never imports the view.

pub mod diff;
pub mod explain;
pub mod help;
pub mod verification;
