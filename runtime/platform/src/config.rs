//! The workspace file, `etr.yaml`: which contributors send files, where their specs are, how their
//! files are named, and where landing, archive, ledger, lake and HTTP listener live.
//!
//! Read in two steps. First the YAML into the raw shape, where an unknown key, a missing key or a
//! value of the wrong kind is an error at its line (`deny_unknown_fields` everywhere). Then each
//! value is checked and resolved: paths against the workspace folder, file-name patterns compiled,
//! secrets read from the environment or from files. A secret is never a value in the YAML: a token or
//! a password written there is refused, with the two forms it may take instead. Every error is a
//! [`ConfigError`], a diagnostic with the file's text and the span of the value at fault, so that
//! `etr serve` refuses to start naming the line.
//!
//! The schema is documented in docs/platform.md; `etr init` writes a commented example.

// A `ConfigError` carries the file's text to show the line. Inside this module it moves by value
// (built once, on the cold path); the public functions box it.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use etr_lake::{CatalogConfig, LakeConfig, S3Config, Warehouse};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::pattern::FilePattern;

/// The workspace file's name in a workspace folder.
pub const WORKSPACE_FILE: &str = "etr.yaml";

/// A problem in the workspace file, with where it is.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(etr::config))]
pub struct ConfigError {
    pub message: String,
    #[source_code]
    pub source_code: NamedSource<String>,
    #[label("here")]
    pub span: Option<SourceSpan>,
    #[help]
    pub help: Option<String>,
    /// 1-based line of the span, for one-line reports (0 when the error has no place).
    pub line: usize,
}

/// A loaded, checked workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder holding `etr.yaml`; relative paths in it are against this folder.
    pub root: PathBuf,
    pub contributors: Vec<Contributor>,
    /// Files dropped here, one subfolder per contributor (the SFTP chroot's shape).
    pub landing: PathBuf,
    /// An S3-compatible landing zone watched beside the folder (`landing_bucket:`), objects under
    /// `<prefix>/<contributor>/`.
    pub landing_bucket: Option<S3Config>,
    /// Every received file, kept by content hash.
    pub archive: PathBuf,
    /// A bucket holding a copy of the archive (`archive_bucket:`), put before the ledger hears of
    /// a file, and read by workers that do not have a file in their archive folder.
    pub archive_bucket: Option<S3Config>,
    pub ledger: LedgerLocation,
    pub lake: LakeConfig,
    pub http: HttpSettings,
    pub worker: WorkerSettings,
}

impl Workspace {
    pub fn contributor(&self, name: &str) -> Option<&Contributor> {
        self.contributors.iter().find(|c| c.name == name)
    }
}

/// One contributor of the workspace.
#[derive(Debug, Clone)]
pub struct Contributor {
    /// The name the workspace uses (a folder name and a URL segment).
    pub name: String,
    pub spec: PathBuf,
    pub files: FilePattern,
    /// The bearer token that submits as this contributor over HTTP; `None`: no HTTP uploads.
    pub token: Option<Secret>,
}

/// A secret's value. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where the run ledger is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerLocation {
    Sqlite(PathBuf),
    /// A `postgres://` URL (from a secret: it carries the password).
    Postgres(String),
}

impl LedgerLocation {
    /// The URL the ledger opens.
    pub fn url(&self) -> String {
        match self {
            LedgerLocation::Sqlite(path) => format!("sqlite:{}", path.display()),
            LedgerLocation::Postgres(url) => url.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    pub max_upload_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// How long a claimed run stays a worker's without a renewal.
    pub lease_seconds: u64,
    /// Attempts of a run that fails before it stays failed.
    pub max_attempts: u32,
    /// A landing file is taken once its size and time have not changed for this long.
    pub settle_seconds: u64,
}

// ---- the raw shape, as the YAML says it ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    contributors: BTreeMap<NameKey, RawContributor>,
    #[serde(default)]
    landing: Option<Spanned<String>>,
    #[serde(default)]
    landing_bucket: Option<RawS3>,
    #[serde(default)]
    archive: Option<Spanned<String>>,
    #[serde(default)]
    archive_bucket: Option<RawS3>,
    #[serde(default)]
    ledger: Option<Spanned<RawLedger>>,
    #[serde(default)]
    lake: Option<RawLake>,
    #[serde(default)]
    http: Option<RawHttp>,
    #[serde(default)]
    worker: Option<RawWorker>,
}

/// A contributor's name with where it is written, ordered by the name (a map key).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct NameKey(Spanned<String>);

impl PartialEq for NameKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.value == other.0.value
    }
}

impl Eq for NameKey {}

impl PartialOrd for NameKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NameKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.value.cmp(&other.0.value)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContributor {
    spec: Spanned<String>,
    files: Spanned<String>,
    #[serde(default)]
    token: Option<Spanned<RawSecret>>,
}

/// `{ env: NAME }` or `{ file: PATH }`; a bare string is read so that it can be refused by name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawSecret {
    From(SecretSource),
    /// Refused: the value is not kept, only the fact that one was written.
    Inline(#[allow(dead_code)] String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum SecretSource {
    Env(String),
    File(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum RawLedger {
    Sqlite(String),
    Postgres(RawSecret),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLake {
    #[serde(default)]
    catalog: Option<Spanned<RawCatalog>>,
    #[serde(default)]
    warehouse: Option<Spanned<RawWarehouse>>,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum RawCatalog {
    Sqlite(String),
    /// Any database of Iceberg's SQL catalog, by URL (a secret: it may carry a password).
    Sql(RawSecret),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum RawWarehouse {
    Folder(String),
    S3(Box<RawS3>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawS3 {
    bucket: String,
    #[serde(default)]
    prefix: String,
    #[serde(default = "default_region")]
    region: String,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    allow_http: bool,
    access_key_id: Spanned<RawSecret>,
    secret_access_key: Spanned<RawSecret>,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    listen: Option<Spanned<String>>,
    #[serde(default)]
    max_upload_mb: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorker {
    #[serde(default)]
    lease_seconds: Option<u64>,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    settle_seconds: Option<u64>,
}

/// Reads and checks `<dir>/etr.yaml`, or the file `path` names.
pub fn load(path: &Path) -> Result<Workspace, Box<ConfigError>> {
    let file = if path.is_dir() { path.join(WORKSPACE_FILE) } else { path.to_owned() };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| ConfigError {
            message: format!("cannot read the workspace file {}: {e}", file.display()),
            source_code: NamedSource::new(file.display().to_string(), String::new()),
            span: None,
            help: Some(format!("`etr init DIR` writes a workspace with its {WORKSPACE_FILE}")),
            line: 0,
        })
        .map_err(Box::new)?;
    let root = file.parent().map(Path::to_owned).unwrap_or_default();
    let root = std::path::absolute(&root).unwrap_or(root);
    parse(&text, &file.display().to_string(), &root, &|name| std::env::var(name).ok())
}

/// Checks a workspace text; `env` reads environment variables (a parameter, so tests need not set
/// the process's environment).
pub fn parse(
    text: &str,
    file_name: &str,
    root: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Workspace, Box<ConfigError>> {
    check(text, file_name, root, env).map_err(Box::new)
}

fn check(
    text: &str,
    file_name: &str,
    root: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Workspace, ConfigError> {
    let at = Reporter { text, file_name };
    let raw: RawWorkspace = serde_saphyr::from_str(text).map_err(|e| {
        let location = e.location();
        let span = location.and_then(|l| span_of(&l));
        at.error_at(span, location.map_or(0, |l| l.line() as usize), strip_location(&e.to_string()), None)
    })?;
    let resolve_path = |value: &str| -> PathBuf {
        let path = PathBuf::from(value);
        if path.is_absolute() { path } else { root.join(path) }
    };
    let secret =
        |raw: &RawSecret, place: &Spanned<()>| -> Result<Secret, ConfigError> { at.secret(raw, place, root, env) };

    let mut contributors = Vec::new();
    for (NameKey(name), raw) in &raw.contributors {
        if name.value.is_empty() || !name.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(at.error(
                &name.referenced,
                format!("the contributor name `{}` cannot name a folder", name.value),
                Some("use letters, digits, `_` and `-`".into()),
            ));
        }
        let spec = resolve_path(&raw.spec.value);
        if !spec.is_file() {
            return Err(at.error(
                &raw.spec.referenced,
                format!("contributor {}: the spec {} does not exist", name.value, spec.display()),
                Some("a path relative to the workspace folder, or absolute".into()),
            ));
        }
        let files = FilePattern::parse(&raw.files.value).map_err(|message| {
            at.error(&raw.files.referenced, format!("contributor {}: {message}", name.value), None)
        })?;
        let token = match &raw.token {
            Some(token) => Some(secret(&token.value, &Spanned::new((), token.referenced, token.defined))?),
            None => None,
        };
        contributors.push(Contributor { name: name.value.clone(), spec, files, token });
    }
    if contributors.is_empty() {
        return Err(at.error_at(
            None,
            0,
            "the workspace has no contributors".into(),
            Some("list each under `contributors:`".into()),
        ));
    }

    let folder = |value: &Option<Spanned<String>>, default: &str| {
        value.as_ref().map_or_else(|| root.join(default), |v| resolve_path(&v.value))
    };
    let landing = folder(&raw.landing, "landing");
    // Each key's secret is reported at its own line.
    let spanned_secret = |raw: &Spanned<RawSecret>| secret(&raw.value, &Spanned::new((), raw.referenced, raw.defined));
    let s3_config = |s3: &RawS3| -> Result<S3Config, ConfigError> {
        Ok(S3Config {
            bucket: s3.bucket.clone(),
            prefix: s3.prefix.clone(),
            region: s3.region.clone(),
            endpoint: s3.endpoint.clone(),
            access_key_id: spanned_secret(&s3.access_key_id)?.expose().to_owned(),
            secret_access_key: spanned_secret(&s3.secret_access_key)?.expose().to_owned(),
            allow_http: s3.allow_http,
        })
    };
    let landing_bucket = raw.landing_bucket.as_ref().map(s3_config).transpose()?;
    let archive_bucket = raw.archive_bucket.as_ref().map(s3_config).transpose()?;
    let archive = folder(&raw.archive, "archive");
    let ledger = match &raw.ledger {
        None => LedgerLocation::Sqlite(root.join("state/ledger.db")),
        Some(spanned) => match &spanned.value {
            RawLedger::Sqlite(path) => LedgerLocation::Sqlite(resolve_path(path)),
            RawLedger::Postgres(url) => {
                let url = secret(url, &Spanned::new((), spanned.referenced, spanned.defined))?;
                if !url.expose().starts_with("postgres://") && !url.expose().starts_with("postgresql://") {
                    return Err(at.error(
                        &spanned.referenced,
                        "the ledger's PostgreSQL URL does not start with postgres://".into(),
                        None,
                    ));
                }
                LedgerLocation::Postgres(url.expose().to_owned())
            }
        },
    };

    let lake = {
        let raw_lake = raw.lake.as_ref();
        let catalog = match raw_lake.and_then(|l| l.catalog.as_ref()) {
            None => CatalogConfig::Sql { url: format!("sqlite:{}?mode=rwc", root.join("state/catalog.db").display()) },
            Some(spanned) => match &spanned.value {
                RawCatalog::Sqlite(path) => {
                    CatalogConfig::Sql { url: format!("sqlite:{}?mode=rwc", resolve_path(path).display()) }
                }
                RawCatalog::Sql(url) => CatalogConfig::Sql {
                    url: secret(url, &Spanned::new((), spanned.referenced, spanned.defined))?.expose().to_owned(),
                },
            },
        };
        let warehouse = match raw_lake.and_then(|l| l.warehouse.as_ref()) {
            None => Warehouse::Local(root.join("warehouse")),
            Some(spanned) => match &spanned.value {
                RawWarehouse::Folder(path) => Warehouse::Local(resolve_path(path)),
                RawWarehouse::S3(s3) => Warehouse::S3(s3_config(s3)?),
            },
        };
        let namespace = raw_lake.and_then(|l| l.namespace.clone()).unwrap_or_else(|| "etr".to_owned());
        LakeConfig { catalog, warehouse, catalog_name: "etr".to_owned(), namespace }
    };

    let http = {
        let raw_http = raw.http.as_ref();
        let listen = match raw_http.and_then(|h| h.listen.as_ref()) {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(spanned) => spanned.value.parse().map_err(|_| {
                at.error(
                    &spanned.referenced,
                    format!("`{}` is not an address and port", spanned.value),
                    Some("for instance 127.0.0.1:8080 or 0.0.0.0:8443".into()),
                )
            })?,
        };
        let max_upload_bytes = raw_http.and_then(|h| h.max_upload_mb).unwrap_or(2048).saturating_mul(1024 * 1024);
        HttpSettings { listen, max_upload_bytes }
    };
    let worker = {
        let raw_worker = raw.worker.as_ref();
        WorkerSettings {
            lease_seconds: raw_worker.and_then(|w| w.lease_seconds).unwrap_or(300).max(1),
            max_attempts: raw_worker.and_then(|w| w.max_attempts).unwrap_or(5).max(1),
            settle_seconds: raw_worker.and_then(|w| w.settle_seconds).unwrap_or(2),
        }
    };
    Ok(Workspace {
        root: root.to_owned(),
        contributors,
        landing,
        landing_bucket,
        archive,
        archive_bucket,
        ledger,
        lake,
        http,
        worker,
    })
}

/// Builds errors that point into the workspace file.
struct Reporter<'a> {
    text: &'a str,
    file_name: &'a str,
}

impl Reporter<'_> {
    fn error(&self, location: &serde_saphyr::Location, message: String, help: Option<String>) -> ConfigError {
        self.error_at(span_of(location), location.line() as usize, message, help)
    }

    fn error_at(&self, span: Option<SourceSpan>, line: usize, message: String, help: Option<String>) -> ConfigError {
        ConfigError { message, source_code: NamedSource::new(self.file_name, self.text.to_owned()), span, help, line }
    }

    fn secret(
        &self,
        raw: &RawSecret,
        place: &Spanned<()>,
        root: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secret, ConfigError> {
        match raw {
            RawSecret::Inline(_) => Err(self.error(
                &place.referenced,
                "a secret is written in the workspace file".into(),
                Some("secrets come from the environment, `{ env: VARIABLE }`, or from a file, `{ file: PATH }`".into()),
            )),
            RawSecret::From(SecretSource::Env(name)) => {
                env(name).filter(|v| !v.trim().is_empty()).map(|v| Secret(v.trim().to_owned())).ok_or_else(|| {
                    self.error(&place.referenced, format!("the environment variable {name} is not set"), None)
                })
            }
            RawSecret::From(SecretSource::File(path)) => {
                let path = if Path::new(path).is_absolute() { PathBuf::from(path) } else { root.join(path) };
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.error(&place.referenced, format!("cannot read the secret file {}: {e}", path.display()), None)
                })?;
                let value = text.trim();
                if value.is_empty() {
                    return Err(self.error(
                        &place.referenced,
                        format!("the secret file {} is empty", path.display()),
                        None,
                    ));
                }
                Ok(Secret(value.to_owned()))
            }
        }
    }
}

fn span_of(location: &serde_saphyr::Location) -> Option<SourceSpan> {
    let span = location.span();
    let offset = span.byte_offset()? as usize;
    let len = span.byte_len().unwrap_or(0).max(1) as usize;
    Some(SourceSpan::from((offset, len)))
}

/// serde-saphyr's messages end with where they are; the diagnostic shows that itself.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}
