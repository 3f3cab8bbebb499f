//! Turns a container into one ephemeral GitHub Actions runner and supervises it.
//!
//! Main types: the runner settings read from a given environment map, the configuration step
//! and the supervisor that forwards signals and enforces idle and lifetime limits.
//!
//! It never passes a credential on a command line and never lets one reach a job step.
