//! Errors of the SDP parser: what was wrong and on which line. Every one of
//! them earns a 400 on SIP (see [`ParseError::sip_status`]).

/// Why a session description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The description is larger than [`Limits::max_size`](super::Limits).
    #[error("session description larger than {limit} bytes")]
    TooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// More lines than [`Limits::max_lines`](super::Limits).
    #[error("more than {limit} lines")]
    TooManyLines {
        /// The limit in force.
        limit: usize,
    },
    /// More media sections than [`Limits::max_media`](super::Limits).
    #[error("more than {limit} media sections")]
    TooManyMedia {
        /// The limit in force.
        limit: usize,
    },
    /// The first line is not `v=`.
    #[error("missing v= line")]
    MissingVersion,
    /// `v=` names a version other than 0.
    #[error("unsupported SDP version")]
    Version,
    /// No `o=` line.
    #[error("missing o= line")]
    MissingOrigin,
    /// A line that is not `<letter>=<value>`, or whose type letter SDP does
    /// not define (RFC 8866 §5 says to reject such a description).
    #[error("line {line}: not a valid SDP line")]
    Line {
        /// The line number, from 1.
        line: usize,
    },
    /// A line whose value breaks its grammar.
    #[error("line {line}: malformed {field}")]
    Field {
        /// The line number, from 1.
        line: usize,
        /// What the line carries (`"m="`, `"port"`, `"c="`…).
        field: &'static str,
    },
    /// A line allowed once in its section appears again.
    #[error("line {line}: duplicate {field}")]
    Duplicate {
        /// The line number, from 1.
        line: usize,
        /// Which line type.
        field: &'static str,
    },
}

impl ParseError {
    /// The SIP response an offer or answer with this error earns.
    pub fn sip_status(&self) -> u16 {
        400
    }
}
