//! The HTTP API of `etr serve`: uploads (`PUT /v1/files/{contributor}/{name}`), the runs a
//! contributor may read (`GET /v1/runs/{id}`, `GET /v1/runs`), the portal (a server-rendered upload
//! page and a run page), and `GET /healthz`. docs/platform.md documents every route and answer.
//!
//! Who may do what: a bearer token is a contributor's; it uploads and reads as that contributor
//! only. There is no administrator token: reading every contributor's runs is `etr runs` on the
//! machine, so no single HTTP secret can read or write the whole bureau.
//!
//! An upload is streamed into the archive's temporary file, never held whole in memory: the body's
//! chunks go through a small channel to a blocking task that writes and hashes them. Whatever stops
//! an upload before its end (a client gone, a body cut short, the size limit) drops the temporary
//! file, and nothing is recorded.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, put};
use etr_ledger::{Filter, Month, Run, RunId, RunState, Source};
use futures::StreamExt as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::archive::StreamedIncoming;
use crate::platform::{IntakeError, Platform};

/// The routes over a platform.
pub fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/files/{contributor}/{name}", put(upload))
        .route("/v1/runs", get(list_runs))
        .route("/v1/runs/{id}", get(get_run))
        .route("/portal", get(portal))
        .route("/portal/runs/{id}", get(portal_run))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route", Value::Null) })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method", Value::Null)
        })
        .with_state(platform)
}

/// An error answer: a status and `{ "error": message, "detail": ... }`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    detail: Value,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>, detail: impl Into<Value>) -> ApiError {
        ApiError { status, message: message.into(), detail: detail.into() }
    }

    fn internal(what: &str, error: impl std::fmt::Display) -> ApiError {
        eprintln!("etr serve: {what}: {error}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{what} failed on the server"), error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = axum::Json(json!({ "error": self.message, "detail": self.detail }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

async fn healthz() -> axum::Json<Value> {
    axum::Json(json!({ "status": "ok" }))
}

// ---- who is asking ----

/// The contributor whose token the request carries, or 401.
fn caller(platform: &Platform, headers: &HeaderMap) -> Result<String, ApiError> {
    let unauthorized = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, message, Value::Null);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("an `Authorization: Bearer <token>` header is required"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the `Authorization` header must be `Bearer <token>`"))?;
    // Every contributor's token is compared, to the end, whichever matches: the time taken says
    // nothing about which token (or how much of one) was right.
    let presented = Sha256::digest(token.as_bytes());
    let mut found = None;
    for contributor in &platform.workspace.contributors {
        if let Some(secret) = &contributor.token
            && same_digest(&presented, &Sha256::digest(secret.expose().as_bytes()))
        {
            found = Some(contributor.name.clone());
        }
    }
    found.ok_or_else(|| unauthorized("the token is not valid"))
}

/// Equality of two digests in time independent of where they differ. Comparing digests rather than
/// tokens also hides the tokens' lengths.
fn same_digest(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 403 unless `caller` is `contributor`.
fn must_be(caller: &str, contributor: &str) -> Result<(), ApiError> {
    if caller == contributor {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this token is {caller}'s; it cannot act for {contributor}"),
            Value::Null,
        ))
    }
}

fn path_error(rejection: PathRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "the path cannot be read", rejection.body_text())
}

// ---- uploads ----

async fn upload(
    State(platform): State<Arc<Platform>>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Path((contributor, name)) = path.map_err(path_error)?;
    if platform.workspace.contributor(&contributor).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no contributor `{contributor}` in the workspace"),
            Value::Null,
        ));
    }
    let who = caller(&platform, &headers)?;
    must_be(&who, &contributor)?;
    let month = platform.check_name(&contributor, &name).map_err(intake_error)?;
    let limit = platform.workspace.http.max_upload_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the file is larger than this server takes ({limit} bytes)"),
            json!({ "max_upload_bytes": limit }),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }

    // If this handler is dropped (the client went away), the file is dropped with it.
    let incoming = StreamedIncoming::start(&platform.archive).map_err(|e| ApiError::internal("the archive", e))?;
    let mut stream = body.into_data_stream();
    let mut received: u64 = 0;
    let mut cut_off = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                received += chunk.len() as u64;
                if received > limit {
                    cut_off = Some(too_large());
                    break;
                }
                if !incoming.write(chunk).await {
                    // The writer stopped: its error is reported below.
                    break;
                }
            }
            Err(error) => {
                cut_off = Some(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "the upload was cut off before its end; nothing was recorded",
                    error.to_string(),
                ));
                break;
            }
        }
    }
    let incoming = incoming.finish().await.map_err(|e| ApiError::internal("writing the upload", e))?;
    if let Some(error) = cut_off {
        // `incoming` is dropped here: its temporary file with it.
        return Err(error);
    }
    if declared.is_some_and(|length| length != incoming.size()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body's length is not its Content-Length; nothing was recorded",
            json!({ "content_length": declared, "received": incoming.size() }),
        ));
    }
    if incoming.size() == 0 {
        return Err(intake_error(IntakeError::Empty));
    }
    let stored =
        platform.archive.commit_async(incoming).await.map_err(|e| ApiError::internal("archiving the upload", e))?;
    let (sha256, size) = (stored.hash.clone(), stored.size);
    let run = platform.record(&contributor, &name, month, stored, Source::Api).await.map_err(intake_error)?;
    eprintln!("etr serve: received {} {} {} ({} bytes, api)", run.id, run.contributor, run.file_name, size);
    let answer = json!({
        "run": run.id.to_string(),
        "contributor": run.contributor,
        "file": run.file_name,
        "sha256": sha256,
        "size": size,
        "month": month.to_string(),
        "state": run.state.as_str(),
        "links": { "run": format!("/v1/runs/{}", run.id) },
    });
    let mut response = (StatusCode::CREATED, axum::Json(answer)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/runs/{}", run.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn intake_error(error: IntakeError) -> ApiError {
    match error {
        IntakeError::UnknownContributor(_) => ApiError::new(StatusCode::NOT_FOUND, error.to_string(), Value::Null),
        IntakeError::BadName { ref reason, .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string(), reason.clone())
        }
        IntakeError::Empty => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "the file is empty; nothing was recorded", Value::Null)
        }
        IntakeError::Io(e) => ApiError::internal("receiving the file", e),
        IntakeError::Ledger(e) => ApiError::internal("the ledger", e),
    }
}

// ---- runs ----

/// A run as the API shows it.
pub fn run_json(run: &Run) -> Value {
    let time = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "run": run.id.to_string(),
        "contributor": run.contributor,
        "file": run.file_name,
        "sha256": run.content_hash.as_str(),
        "size": run.size_bytes,
        "source": run.source.as_str(),
        "month": run.reporting_month.map(|m| m.to_string()),
        "state": run.state.as_str(),
        "settled": run.is_settled(),
        "attempts": run.attempts,
        "detail": run.detail,
        "duplicate_of": run.duplicate_of.map(|r| r.to_string()),
        "superseded_by": run.superseded_by.map(|r| r.to_string()),
        "outcome": run.outcome.as_ref().map(|o| json!({
            "lines": o.lines,
            "accepted": o.accepted,
            "rejected": o.rejected,
            "warnings": o.warnings,
            "lake_snapshot": o.lake_snapshot,
        })),
        "received_at": time(&run.received_at),
        "updated_at": time(&run.updated_at),
        "finished_at": run.finished_at.as_ref().map(time),
        "retry_at": run.retry_at.as_ref().map(time),
        "links": { "run": format!("/v1/runs/{}", run.id) },
    })
}

fn parse_run_id(text: &str) -> Result<RunId, ApiError> {
    text.parse::<RunId>().map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string(), Value::Null))
}

async fn find_run(platform: &Platform, id: RunId) -> Result<Run, ApiError> {
    match platform.ledger.get(id).await {
        Ok(run) => Ok(run),
        Err(etr_ledger::LedgerError::UnknownRun(_)) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, format!("no run {id}"), Value::Null))
        }
        Err(e) => Err(ApiError::internal("the ledger", e)),
    }
}

async fn get_run(
    State(platform): State<Arc<Platform>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    let Path(id) = path.map_err(path_error)?;
    let who = caller(&platform, &headers)?;
    let id = parse_run_id(&id)?;
    let run = find_run(&platform, id).await?;
    must_be(&who, &run.contributor)?;
    Ok(axum::Json(run_json(&run)))
}

/// The most runs one answer holds when `limit` is not given.
const DEFAULT_LIMIT: u32 = 100;

async fn list_runs(
    State(platform): State<Arc<Platform>>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad query", e.body_text()))?;
    let who = caller(&platform, &headers)?;
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message, Value::Null);
    if let Some(unknown) = query.keys().find(|k| !matches!(k.as_str(), "contributor" | "month" | "state" | "limit")) {
        return Err(bad(format!("unknown query parameter `{unknown}`: contributor, month, state and limit are known")));
    }
    let contributor = match query.get("contributor").filter(|c| !c.is_empty()) {
        Some(contributor) => {
            must_be(&who, contributor)?;
            contributor.clone()
        }
        None => who,
    };
    let month = match query.get("month").filter(|m| !m.is_empty()) {
        Some(month) => Some(month.parse::<Month>().map_err(|e| bad(e.to_string()))?),
        None => None,
    };
    let state = match query.get("state").filter(|s| !s.is_empty()) {
        Some(state) => Some(state.parse::<RunState>().map_err(|e| bad(e.to_string()))?),
        None => None,
    };
    let limit = match query.get("limit").filter(|l| !l.is_empty()) {
        Some(limit) => Some(
            limit
                .parse::<u32>()
                .ok()
                .filter(|l| *l > 0)
                .ok_or_else(|| bad(format!("`limit` is a positive number, not `{limit}`")))?,
        ),
        None => Some(DEFAULT_LIMIT),
    };
    let filter = Filter { contributor: Some(contributor), month, state, limit };
    let runs = platform.ledger.list(&filter).await.map_err(|e| ApiError::internal("the ledger", e))?;
    Ok(axum::Json(json!({ "runs": runs.iter().map(run_json).collect::<Vec<_>>() })))
}

// ---- the portal ----

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, head: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{}</title>{head}\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}label{{display:block;margin:.6em 0}}\
         td,th{{text-align:left;padding:.2em .8em .2em 0}}</style></head>\n<body>\n<h1>{}</h1>\n{body}\n</body></html>\n",
        escape(title),
        escape(title)
    ))
}

/// The upload page. The browser cannot send a bearer token with a plain form, so a few lines of
/// script send the file with `fetch` (a PUT, as any client does) and then open the run's page.
async fn portal(State(platform): State<Arc<Platform>>) -> Html<String> {
    let mut options = String::new();
    for contributor in &platform.workspace.contributors {
        let name = escape(&contributor.name);
        let _ = write!(options, "<option value=\"{name}\">{name}</option>");
    }
    let body = format!(
        "<form id=upload>\n\
         <label>Contributor <select name=contributor>{options}</select></label>\n\
         <label>Token <input name=token type=password autocomplete=off required></label>\n\
         <label>File <input name=file type=file required></label>\n\
         <button>Upload</button>\n</form>\n<p id=answer role=status></p>\n\
         <script>\n\
         document.getElementById('upload').addEventListener('submit', async (event) => {{\n\
         \x20 event.preventDefault();\n\
         \x20 const form = event.target, file = form.file.files[0], answer = document.getElementById('answer');\n\
         \x20 answer.textContent = 'Uploading ' + file.name + '...';\n\
         \x20 const url = '/v1/files/' + encodeURIComponent(form.contributor.value) + '/' + encodeURIComponent(file.name);\n\
         \x20 const response = await fetch(url, {{ method: 'PUT', body: file, headers: {{ 'Authorization': 'Bearer ' + form.token.value }} }});\n\
         \x20 const json = await response.json().catch(() => ({{ error: response.statusText }}));\n\
         \x20 if (response.ok) location.href = '/portal/runs/' + json.run + '?sha256=' + json.sha256;\n\
         \x20 else answer.textContent = response.status + ': ' + json.error + (json.detail ? ' (' + JSON.stringify(json.detail) + ')' : '');\n\
         }});\n\
         </script>"
    );
    page("Send a file", "", &body)
}

/// A run's page. A browser following a link cannot send a token, so the page asks for the file's
/// SHA-256 instead (the upload's answer carries it): only whoever has the file can read its run,
/// and run ids, which are sequential, cannot be walked.
async fn portal_run(
    State(platform): State<Arc<Platform>>,
    path: Result<Path<String>, PathRejection>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let not_found = || {
        (StatusCode::NOT_FOUND, page("No such run", "", "<p>No run with that id and file hash.</p>")).into_response()
    };
    let Ok(Path(id)) = path else { return not_found() };
    let Ok(id) = id.parse::<RunId>() else { return not_found() };
    let run = match platform.ledger.get(id).await {
        Ok(run) => run,
        Err(etr_ledger::LedgerError::UnknownRun(_)) => return not_found(),
        Err(e) => return ApiError::internal("the ledger", e).into_response(),
    };
    let given = query.get("sha256").map(String::as_str).unwrap_or_default();
    if !same_digest(given.as_bytes(), run.content_hash.as_str().as_bytes()) {
        return not_found();
    }
    let mut rows = String::new();
    let mut row = |label: &str, value: &str| {
        let _ = write!(rows, "<tr><th>{}</th><td>{}</td></tr>", escape(label), escape(value));
    };
    row("Run", &run.id.to_string());
    row("Contributor", &run.contributor);
    row("File", &run.file_name);
    row("Month", &run.reporting_month.map(|m| m.to_string()).unwrap_or_default());
    row("State", run.state.as_str());
    if let Some(detail) = &run.detail {
        row("Detail", detail);
    }
    if let Some(outcome) = &run.outcome {
        row("Lines", &outcome.lines.to_string());
        row("Accepted", &outcome.accepted.to_string());
        row("Rejected", &outcome.rejected.to_string());
        row("Warnings", &outcome.warnings.to_string());
    }
    if let Some(earlier) = run.duplicate_of {
        row("Duplicate of", &earlier.to_string());
    }
    if let Some(newer) = run.superseded_by {
        row("Superseded by", &newer.to_string());
    }
    // Until the run settles the page reloads itself; a settled run's page stays still.
    let (head, note) = if run.is_settled() {
        ("", "")
    } else {
        ("<meta http-equiv=refresh content=2>", "<p>This page refreshes until the run is settled.</p>")
    };
    page(
        &format!("Run {}", run.id),
        head,
        &format!("<table>{rows}</table>\n{note}\n<p><a href=/portal>Send another file</a></p>"),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_digests_compare_whole() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert!(same_digest(b"abc", b"abc"));
        assert!(!same_digest(b"abc", b"abd"));
        assert!(!same_digest(b"abc", b"ab"));
    }
}
