//! Golden transcripts (placeholder while the fixtures are captured).
