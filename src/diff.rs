//! Symbolic differentiation. (Being written.)
