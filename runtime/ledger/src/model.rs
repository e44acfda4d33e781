//! The ledger's values: what a run is, the states it moves through, and the ids, months and
//! hashes that name things, each parsed from and displayed as text one way.
//!
//! A run's `state` says where it is in the state machine of the crate's doc; the columns beside it
//! say why (`detail`), until when (`lease_expires_at`, `retry_at`) and in favour of what
//! (`duplicate_of`, `superseded_by`). Every type here checks its own invariant when it is made
//! (a month has twelve values, a content hash is 64 lowercase hex digits, a run id is positive),
//! so the ledger never stores a value it could not read back.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Text that is not the value it was meant to be, and what it was meant to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not {expected}")]
pub struct ParseError {
    pub input: String,
    pub expected: &'static str,
}

impl ParseError {
    fn new(input: &str, expected: &'static str) -> ParseError {
        ParseError { input: input.to_owned(), expected }
    }
}

/// A run's id: a positive number from the ledger's sequence, written `run-000123` (six digits at
/// least, more when the number needs them). Ids grow with arrival, so they order runs oldest
/// first; and they read well in logs, URLs and support calls, which is why they are not ULIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(i64);

impl RunId {
    /// The id of number `number`, which must be positive.
    pub fn new(number: i64) -> Option<RunId> {
        (number > 0).then_some(RunId(number))
    }

    /// The number in the ledger's sequence.
    pub fn number(self) -> i64 {
        self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run-{:06}", self.0)
    }
}

impl FromStr for RunId {
    type Err = ParseError;

    /// `run-` and decimal digits (`run-000123`, or unpadded, `run-123`).
    fn from_str(text: &str) -> Result<RunId, ParseError> {
        let error = || ParseError::new(text, "a run id (`run-` and a positive number, e.g. run-000123)");
        let digits = text.strip_prefix("run-").ok_or_else(error)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        digits.parse().ok().and_then(RunId::new).ok_or_else(error)
    }
}

/// Defines a fieldless enum whose values are stored and shown by name: `ALL`, `as_str`,
/// `Display` and `FromStr`, the names listed once.
macro_rules! named_values {
    (
        $(#[$meta:meta])*
        pub enum $name:ident, expected $expected:literal {
            $($(#[$value_meta:meta])* $value:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$value_meta])* $value,)*
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$value),*];

            /// The name stored in the database and shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$value => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            fn from_str(text: &str) -> Result<$name, ParseError> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text).ok_or_else(|| ParseError::new(text, $expected))
            }
        }
    };
}

named_values! {
    /// Where a run is in its life. See the crate's doc for the transitions.
    pub enum RunState, expected "a run state (received, running, published, refused, failed, duplicate, superseded)" {
        /// Waiting for a worker.
        Received = "received",
        /// A worker holds its lease.
        Running = "running",
        /// Its output is in the lake; the contributor-month's current file.
        Published = "published",
        /// The file is fatal (`detail` says why); it will not be retried.
        Refused = "refused",
        /// An attempt failed (`detail` holds the error): retried at `retry_at`, or, when that is
        /// `None`, never again.
        Failed = "failed",
        /// The same content as a run already published (`duplicate_of`).
        Duplicate = "duplicate",
        /// Was published; a newer file for the same contributor and month replaced it (`superseded_by`).
        Superseded = "superseded",
    }
}

named_values! {
    /// How a file reached etr.
    pub enum Source, expected "a source (api, folder, bucket, cli, replay)" {
        /// `PUT /v1/files/...`, or the upload page.
        Api = "api",
        /// The landing folder (the contributors' SFTP uploads).
        Folder = "folder",
        /// The landing bucket.
        Bucket = "bucket",
        /// `etr ingest`.
        Cli = "cli",
        /// `etr replay`: an archived file run again.
        Replay = "replay",
    }
}

/// A reporting month, written `YYYY-MM` (four-digit years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: u16,
    month: u8,
}

impl Month {
    /// `month` of `year`; `None` unless the month is 1 to 12 and the year has four digits.
    pub fn new(year: u16, month: u8) -> Option<Month> {
        ((1000..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    /// 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Month, ParseError> {
        let error = || ParseError::new(text, "a month (YYYY-MM)");
        let (year, month) = text.split_once('-').ok_or_else(error)?;
        let digits = |part: &str, width| part.len() == width && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) {
            return Err(error());
        }
        Month::new(year.parse().map_err(|_| error())?, month.parse().map_err(|_| error())?).ok_or_else(error)
    }
}

/// A file's SHA-256, as 64 lowercase hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentHash(String);

impl ContentHash {
    /// The hash of the 32 bytes of a SHA-256 digest.
    pub fn from_digest(digest: [u8; 32]) -> ContentHash {
        ContentHash(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ContentHash {
    type Err = ParseError;

    /// Exactly 64 lowercase hex digits: one spelling per hash, so equal files compare equal.
    fn from_str(text: &str) -> Result<ContentHash, ParseError> {
        let hex = text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hex {
            Ok(ContentHash(text.to_owned()))
        } else {
            Err(ParseError::new(text, "a SHA-256 (64 lowercase hex digits)"))
        }
    }
}

/// A file that has just arrived, for [`crate::Ledger::receive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub contributor: String,
    /// The name it arrived under, as the contributor gave it.
    pub file_name: String,
    pub content_hash: ContentHash,
    pub size_bytes: u64,
    pub source: Source,
    /// Where the archived copy is (the replay source).
    pub archive_key: String,
    /// The month it reports, when the name or the channel says; otherwise the run's outcome
    /// gives it at publication.
    pub reporting_month: Option<Month>,
}

/// What a published run produced, for [`crate::Ledger::publish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub lines: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub warnings: u64,
    /// The lake's snapshot that holds this run's rows.
    pub lake_snapshot: Option<i64>,
    /// The month the file reports, found by reading it; `None` keeps the run's.
    pub reporting_month: Option<Month>,
}

/// One run: a received file and everything the ledger knows of its processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: RunId,
    pub contributor: String,
    pub file_name: String,
    pub content_hash: ContentHash,
    pub size_bytes: u64,
    pub source: Source,
    pub archive_key: String,
    pub reporting_month: Option<Month>,
    pub state: RunState,
    /// How many times a worker claimed it.
    pub attempts: u32,
    pub received_at: DateTime<Utc>,
    /// When the state or the lease last changed.
    pub updated_at: DateTime<Utc>,
    /// The worker holding it, while `running`.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When a `failed` run may be claimed again; `None` for a failure that is final.
    pub retry_at: Option<DateTime<Utc>>,
    /// When its last attempt ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The refusal's reason or the last attempt's error.
    pub detail: Option<String>,
    pub duplicate_of: Option<RunId>,
    pub superseded_by: Option<RunId>,
    /// What it produced, once published (and still once superseded).
    pub outcome: Option<Outcome>,
}

impl Run {
    /// Whether nothing more will happen to it but, for a published run, being superseded:
    /// published, refused, duplicate, superseded, or failed with no retry left.
    pub fn is_settled(&self) -> bool {
        match self.state {
            RunState::Received | RunState::Running => false,
            RunState::Failed => self.retry_at.is_none(),
            RunState::Published | RunState::Refused | RunState::Duplicate | RunState::Superseded => true,
        }
    }
}

/// One state change of a run: the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEvent {
    pub run: RunId,
    /// `None` for the first event, the file's arrival.
    pub from: Option<RunState>,
    pub to: RunState,
    pub at: DateTime<Utc>,
    /// The worker that made the change; `None` for arrivals.
    pub worker: Option<String>,
    pub detail: Option<String>,
}

/// Which runs [`crate::Ledger::list`] returns: every condition given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub contributor: Option<String>,
    pub month: Option<Month>,
    pub state: Option<RunState>,
    /// At most this many, the newest.
    pub limit: Option<u32>,
}

/// How often and how soon a failed run is tried again, for [`crate::Ledger::fail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; a failure of the last one is final.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles with each further one...
    pub base_delay: Duration,
    /// ...up to this.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The wait before the next attempt after attempt `attempt` (1-based) failed, or `None` when
    /// that was the last: `base_delay * 2^(attempt - 1)`, at most `max_delay`.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let doublings = attempt.saturating_sub(1);
        let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
        Some(self.base_delay.saturating_mul(factor).min(self.max_delay))
    }
}

impl Default for RetryPolicy {
    /// Three attempts, a minute apart and then two: enough for a database or a lake that was
    /// briefly away, too few to hide a file that always fails.
    fn default() -> RetryPolicy {
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_secs(60), max_delay: Duration::from_secs(15 * 60) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_read_back_what_they_write() {
        let id = RunId::new(123).unwrap();
        assert_eq!(id.to_string(), "run-000123");
        assert_eq!("run-000123".parse(), Ok(id));
        assert_eq!("run-123".parse(), Ok(id));
        assert_eq!(RunId::new(12_345_678).unwrap().to_string(), "run-12345678");
        for bad in ["", "run-", "run-0", "run--1", "run-+1", "123", "RUN-1", "run-1x", "run-99999999999999999999"] {
            assert!(bad.parse::<RunId>().is_err(), "{bad:?}");
        }
        assert_eq!(RunId::new(0), None);
    }

    #[test]
    fn months_are_four_digit_years_and_twelve_months() {
        let month: Month = "2026-11".parse().unwrap();
        assert_eq!((month.year(), month.month()), (2026, 11));
        assert_eq!(month.to_string(), "2026-11");
        for bad in ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01", "０２６-11", ""] {
            assert!(bad.parse::<Month>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_hashes_have_one_spelling() {
        let digest = [0xab; 32];
        let hash = ContentHash::from_digest(digest);
        assert_eq!(hash.as_str(), "ab".repeat(32));
        assert_eq!(hash.as_str().parse(), Ok(hash.clone()));
        assert!("AB".repeat(32).parse::<ContentHash>().is_err(), "upper case is another spelling");
        assert!("ab".repeat(31).parse::<ContentHash>().is_err());
        assert!("zz".repeat(32).parse::<ContentHash>().is_err());
    }

    #[test]
    fn states_and_sources_read_back_their_names() {
        for &state in RunState::ALL {
            assert_eq!(state.as_str().parse(), Ok(state));
        }
        for &source in Source::ALL {
            assert_eq!(source.as_str().parse(), Ok(source));
        }
        assert_eq!((RunState::ALL.len(), Source::ALL.len()), (7, 5));
        assert!("done".parse::<RunState>().is_err());
        assert!("ftp".parse::<Source>().is_err());
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap_and_stop_at_the_last_attempt() {
        let policy =
            RetryPolicy { max_attempts: 6, base_delay: Duration::from_secs(10), max_delay: Duration::from_secs(60) };
        let delays: Vec<Option<u64>> = (1..=7).map(|a| policy.delay_after(a).map(|d| d.as_secs())).collect();
        assert_eq!(delays, [Some(10), Some(20), Some(40), Some(60), Some(60), None, None]);
        let huge = RetryPolicy { max_attempts: u32::MAX, ..policy };
        assert_eq!(huge.delay_after(200), Some(Duration::from_secs(60)), "no overflow");
    }
}
