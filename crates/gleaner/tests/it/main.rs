//! gleaner's integration tests: one test binary (as ripgrep does), real data, real models.
//!
//! Data comes from the repository's `data/` directory; models from `gleaner models fetch`
//! (the test script installs them first).

mod util;

mod badinput;
mod changed;
mod corrupt;
mod csv;
mod dedup;
mod determinism;
mod disk;
mod embed;
mod ifd;
mod lcg;
mod lock;
mod presets;
mod props_formats;
mod props_parsers;
mod quality;
mod recipes;
mod report;
mod resume;
mod roundtrip;
mod select;
mod shard;
