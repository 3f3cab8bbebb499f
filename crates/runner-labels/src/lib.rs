//! Reads a job's `runs-on` labels and decides where it runs on Hugging Face Jobs.
//!
//! Main types: a placement (flavor, image key, timeout, labels) or a typed refusal that can be
//! shown to the workflow author, and a catalogue of the Jobs hardware.
//!
//! Pure: no IO, no async, no clock. The dispatcher fetches the hardware list and hands it in.
