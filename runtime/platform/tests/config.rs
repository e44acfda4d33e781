//! The workspace file: a good one read in full, and each kind of mistake refused with its line.

use std::path::Path;

use etr_platform::config::{LedgerLocation, parse};

fn workspace_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("specs/jcl.etr"), "// a spec\n").unwrap();
    std::fs::write(dir.path().join("jcl.token"), "s3cr3t-token\n").unwrap();
    dir
}

fn env(name: &str) -> Option<String> {
    match name {
        "ETR_TOKEN_JCL" => Some("from-env".into()),
        "ETR_LEDGER_URL" => Some("postgres://etr:pw@db:5432/etr".into()),
        _ => None,
    }
}

fn check(text: &str, root: &Path) -> Result<etr_platform::Workspace, Box<etr_platform::ConfigError>> {
    parse(text, "etr.yaml", root, &env)
}

#[test]
fn a_workspace_is_read_with_its_defaults_and_secrets() {
    let dir = workspace_dir();
    let text = "contributors:\n  JCL:\n    spec: specs/jcl.etr\n    files: \"JCL_{YYYY}{MM}.psv\"\n    token: { env: ETR_TOKEN_JCL }\n  ACME:\n    spec: specs/jcl.etr\n    files: \"ACME_{MM}{YY}.csv\"\n    token: { file: jcl.token }\nledger: { postgres: { env: ETR_LEDGER_URL } }\nhttp: { listen: \"0.0.0.0:9000\", max_upload_mb: 10 }\n";
    let ws = check(text, dir.path()).unwrap();
    assert_eq!(ws.contributors.len(), 2);
    let jcl = ws.contributor("JCL").unwrap();
    assert_eq!(jcl.token.as_ref().unwrap().expose(), "from-env");
    assert_eq!(ws.contributor("ACME").unwrap().token.as_ref().unwrap().expose(), "s3cr3t-token");
    assert_eq!(ws.landing, dir.path().join("landing"));
    assert_eq!(ws.ledger, LedgerLocation::Postgres("postgres://etr:pw@db:5432/etr".into()));
    assert_eq!(ws.http.max_upload_bytes, 10 * 1024 * 1024);
    assert_eq!(ws.http.listen.port(), 9000);
    // The secret does not show in debug output.
    assert!(!format!("{ws:?}").contains("from-env"));
}

/// The error's message and line, for each broken workspace.
fn refused(text: &str) -> (String, usize) {
    let dir = workspace_dir();
    let error = check(text, dir.path()).unwrap_err();
    (format!("{}{}", error.message, error.help.map(|h| format!(" / {h}")).unwrap_or_default()), error.line)
}

#[test]
fn each_mistake_is_refused_at_its_line() {
    let base = "contributors:\n  JCL:\n    spec: specs/jcl.etr\n    files: \"JCL_{YYYY}{MM}.psv\"\n";
    let (message, line) = refused(&format!("{base}    colour: blue\n"));
    assert!(message.contains("colour"), "{message}");
    assert_eq!(line, 5);

    let (message, line) =
        refused("contributors:\n  JCL:\n    spec: specs/missing.etr\n    files: \"JCL_{YYYY}{MM}.psv\"\n");
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(line, 3);

    let (message, line) = refused("contributors:\n  JCL:\n    spec: specs/jcl.etr\n    files: \"JCL_{YYYY}.psv\"\n");
    assert!(message.contains("{MM}"), "{message}");
    assert_eq!(line, 4);

    let (message, line) = refused(&format!("{base}    token: hunter2\n"));
    assert!(message.contains("secret is written") && message.contains("env"), "{message}");
    assert_eq!(line, 5);

    let (message, line) = refused(&format!("{base}    token: {{ env: NOT_SET_ANYWHERE }}\n"));
    assert!(message.contains("NOT_SET_ANYWHERE"), "{message}");
    assert_eq!(line, 5);

    let (message, _) = refused(&format!("{base}http: {{ listen: localhost }}\n"));
    assert!(message.contains("not an address"), "{message}");

    let (message, _) = refused("contributors:\n  \"../etc\":\n    spec: specs/jcl.etr\n    files: \"X_{YYYY}{MM}\"\n");
    assert!(message.contains("cannot name a folder"), "{message}");

    let (message, _) = refused("contributors: {}\n");
    assert!(message.contains("no contributors"), "{message}");

    let (message, line) = refused("contributors:\n  JCL: [unclosed\n");
    assert!(!message.is_empty());
    assert!(line >= 2, "{line}");
}

#[test]
fn the_buckets_are_read_with_their_secrets_and_their_mistakes_refused_at_their_line() {
    let base = "contributors:\n  JCL:\n    spec: specs/jcl.etr\n    files: \"JCL_{YYYY}{MM}.psv\"\n";
    let dir = workspace_dir();
    let text = format!(
        "{base}landing_bucket:\n  bucket: bureau-landing\n  prefix: landing\n  access_key_id: {{ env: ETR_TOKEN_JCL }}\n  \
         secret_access_key: {{ file: jcl.token }}\narchive_bucket:\n  bucket: bureau-archive\n  region: ap-southeast-1\n  \
         access_key_id: {{ env: ETR_TOKEN_JCL }}\n  secret_access_key: {{ env: ETR_TOKEN_JCL }}\n"
    );
    let ws = check(&text, dir.path()).unwrap();
    let landing = ws.landing_bucket.as_ref().unwrap();
    assert_eq!((landing.bucket.as_str(), landing.prefix.as_str()), ("bureau-landing", "landing"));
    assert_eq!(landing.secret_access_key, "s3cr3t-token");
    let archive = ws.archive_bucket.as_ref().unwrap();
    assert_eq!((archive.bucket.as_str(), archive.region.as_str()), ("bureau-archive", "ap-southeast-1"));
    assert!(!format!("{ws:?}").contains("s3cr3t-token"), "the secret key stays out of debug output");

    let (message, line) = refused(&format!(
        "{base}landing_bucket:\n  bucket: b\n  access_key_id: AKIAEXAMPLE\n  secret_access_key: {{ env: ETR_TOKEN_JCL }}\n"
    ));
    assert!(message.contains("secret is written"), "{message}");
    assert_eq!(line, 7, "the line of the key that holds it");

    let (message, line) = refused(&format!(
        "{base}archive_bucket:\n  bucket: b\n  versioned: true\n  access_key_id: {{ env: ETR_TOKEN_JCL }}\n  \
         secret_access_key: {{ env: ETR_TOKEN_JCL }}\n"
    ));
    assert!(message.contains("versioned"), "{message}");
    assert_eq!(line, 7);
}
