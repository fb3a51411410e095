//! Numeric evaluation. (Being written.)
