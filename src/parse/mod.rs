//! Lexer, span-carrying syntax tree and Pratt parser of the model language. (Being written.)
