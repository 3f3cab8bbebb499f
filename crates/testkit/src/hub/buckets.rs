//! The Buckets endpoints of `FakeHub`: create (200 / 409 with `url`), info, list (`Link`
//! pages), delete, tree (recursive or not, `Link` pages by `cursor`), paths-info, the NDJSON
//! batch (≤ 1000 operations, deletes after adds/copies, refused operations listed in `failed`:
//! 200 when some succeeded, 422 when none did) and the xet read/write tokens.
//!
//! The fake keeps no file contents: a batch records path, xet hash, size and times. The size is
//! the line's `size` when the client sent one, else the one registered for the hash with
//! [`crate::FakeHub::set_xet_file_size`] (the real Hub asks its CAS), else 0.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::{HubState, Shared, authorised, hub_error, json_body};
use crate::server::{Request, Response, Router};

/// Operations the Hub accepts in one batch request.
pub const BATCH_LIMIT: usize = 1000;

/// One bucket as the fake holds it.
#[derive(Debug, Clone)]
pub struct BucketState {
    /// 24 hex.
    pub object_id: String,
    pub private: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Files by path.
    pub files: BTreeMap<String, Value>,
}

/// What the fake holds for buckets, in [`HubState::buckets`].
#[derive(Debug, Default)]
pub struct BucketsState {
    /// Buckets by `namespace/name`.
    pub buckets: BTreeMap<String, BucketState>,
    /// The `casUrl` handed out by the xet token endpoints (unset: a URL on the fake that
    /// answers 404, so an upload fails clearly).
    pub cas_url: Option<String>,
    /// Paths whose batch operations the fake refuses, with the reason.
    pub refuse_paths: HashMap<String, String>,
    /// Sizes of xet hashes, as the real Hub learns them from its CAS.
    pub xet_sizes: HashMap<String, u64>,
    /// Items per page of the bucket listing and of trees.
    pub page_size: usize,
    /// Every batch request body, parsed: one list of NDJSON lines per request.
    pub batches: Vec<Vec<Value>>,
}

fn not_found(bucket_id: &str) -> Response {
    hub_error(404, &format!("Bucket {bucket_id} not found")).header("x-error-code", "RepoNotFound")
}

fn namespace_of(state: &HubState, namespace: &str) -> String {
    if namespace == "me" {
        state.user.clone()
    } else {
        namespace.to_owned()
    }
}

fn host(req: &Request) -> String {
    req.header("host").unwrap_or("127.0.0.1").to_owned()
}

fn info(id: &str, bucket: &BucketState) -> Value {
    let size: u64 = bucket
        .files
        .values()
        .filter_map(|f| f["size"].as_u64())
        .sum();
    json!({
        "_id": bucket.object_id,
        "id": id,
        "author": id.split('/').next().unwrap_or(""),
        "private": bucket.private,
        "createdAt": bucket.created_at,
        "updatedAt": bucket.updated_at,
        "size": size,
        "totalFiles": bucket.files.len(),
        "repoType": "bucket",
        "cdnRegions": [],
    })
}

/// The bucket of the path if the caller may see it: its own namespaces, or public buckets.
fn visible<'a>(
    state: &'a mut HubState,
    params: &HashMap<String, String>,
) -> Result<(String, &'a mut BucketState), Response> {
    let namespace = namespace_of(state, &params["namespace"]);
    let id = format!("{namespace}/{}", params["name"]);
    let allowed = state.may_use(&namespace);
    match state.buckets.buckets.get_mut(&id) {
        Some(bucket) if allowed || !bucket.private => Ok((id, bucket)),
        _ => Err(not_found(&id)),
    }
}

fn writable<'a>(
    state: &'a mut HubState,
    params: &HashMap<String, String>,
) -> Result<(String, &'a mut BucketState), Response> {
    let namespace = namespace_of(state, &params["namespace"]);
    if !state.may_use(&namespace) {
        let id = format!("{namespace}/{}", params["name"]);
        return Err(match state.buckets.buckets.get(&id) {
            Some(bucket) if !bucket.private => hub_error(
                403,
                &format!("You don't have write access to the bucket {id}"),
            ),
            _ => not_found(&id),
        });
    }
    visible(state, params)
}

/// A handler with the shared state, after the token check (not the namespace check: reads of
/// public buckets are allowed across namespaces).
fn authed(
    state: &Shared,
    handler: impl Fn(&mut HubState, &Request, &HashMap<String, String>) -> Response
    + Send
    + Sync
    + 'static,
) -> impl Fn(&Request, &HashMap<String, String>) -> Response + Send + Sync + 'static {
    let state = state.clone();
    move |request, params| {
        if let Err(denied) = authorised(&state, request) {
            return denied;
        }
        handler(&mut state.lock().unwrap(), request, params)
    }
}

fn page(req: &Request, items: Vec<Value>, page_size: usize, path: &str) -> Response {
    let offset = match req.query("cursor") {
        None => 0,
        Some(cursor) => match cursor.strip_prefix('c').and_then(|n| n.parse().ok()) {
            Some(offset) => offset,
            None => return hub_error(400, "cursor: Invalid cursor"),
        },
    };
    let limit = match req.query("limit").map(str::parse::<usize>) {
        None => page_size,
        Some(Ok(limit)) if (1..=5000).contains(&limit) => limit.min(page_size),
        Some(_) => return hub_error(400, "limit: Number must be between 1 and 5000"),
    };
    let shown: Vec<&Value> = items.iter().skip(offset).take(limit).collect();
    let mut response = Response::json(200, &shown);
    let next = offset + limit;
    if next < items.len() {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in req.query.iter().filter(|(k, _)| k != "cursor") {
            query.append_pair(k, v);
        }
        query.append_pair("cursor", &format!("c{next}"));
        let link = format!(
            "<http://{}{path}?{}>; rel=\"next\"",
            host(req),
            query.finish()
        );
        response = response.header("link", link);
    }
    response
}

/// The entries under `prefix`: every file and directory when `recursive`, else the children.
fn tree(bucket: &BucketState, prefix: &str, recursive: bool) -> Vec<Value> {
    let base = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let mut directories: BTreeMap<String, String> = BTreeMap::new();
    let mut entries = Vec::new();
    for (path, file) in &bucket.files {
        let Some(rest) = path.strip_prefix(&base) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let uploaded = file["uploadedAt"].as_str().unwrap_or("").to_owned();
        let depth = if recursive { parts.len() - 1 } else { 1 };
        for i in 0..depth.min(parts.len() - 1) {
            let dir = format!("{base}{}", parts[..=i].join("/"));
            let seen = directories.entry(dir).or_default();
            if *seen < uploaded {
                *seen = uploaded.clone();
            }
        }
        if recursive || parts.len() == 1 {
            entries.push(file.clone());
        }
    }
    entries.extend(
        directories
            .into_iter()
            .map(|(path, at)| json!({ "type": "directory", "path": path, "uploadedAt": at })),
    );
    entries.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    entries
}

fn is_xet_hash(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty()
        || path.starts_with('/')
        || path.split('/').any(|s| s.is_empty() || s == "..")
    {
        return Err(format!("Invalid path '{path}'"));
    }
    Ok(())
}

fn millis_to_time(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Applies one batch; answers as the Hub: 400 for a malformed request, otherwise each line is
/// applied or listed in `failed`.
fn batch(state: &mut HubState, req: &Request, params: &HashMap<String, String>) -> Response {
    let content_type = req.header("content-type").unwrap_or("");
    if !content_type.starts_with("application/x-ndjson") {
        return hub_error(400, "Invalid content type, expected application/x-ndjson");
    }
    let Ok(text) = std::str::from_utf8(&req.body) else {
        return hub_error(400, "Invalid NDJSON body: not UTF-8");
    };
    let mut lines = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<Value>(line) {
            Ok(value) if value.is_object() => lines.push(value),
            _ => {
                return hub_error(
                    400,
                    &format!("Invalid NDJSON body: line {} is not a JSON object", i + 1),
                );
            }
        }
    }
    if lines.is_empty() {
        return hub_error(400, "Empty batch");
    }
    if lines.len() > BATCH_LIMIT {
        return hub_error(
            400,
            &format!("Too many operations: {} (max {BATCH_LIMIT})", lines.len()),
        );
    }
    let mut deleting = false;
    for line in &lines {
        match line["type"].as_str() {
            Some("deleteFile") => deleting = true,
            Some("addFile" | "copyFile") if deleting => {
                return hub_error(
                    400,
                    "addFile and copyFile operations must come before deleteFile operations",
                );
            }
            Some("addFile" | "copyFile") => {}
            other => {
                return hub_error(400, &format!("Invalid operation type: {other:?}"));
            }
        }
    }
    state.buckets.batches.push(lines.clone());
    let now = state.now();
    let refuse = state.buckets.refuse_paths.clone();
    let sizes = state.buckets.xet_sizes.clone();
    let (_, bucket) = match writable(state, params) {
        Ok(found) => found,
        Err(denied) => return denied,
    };
    let mut failed = Vec::new();
    for line in &lines {
        let path = line["path"].as_str().unwrap_or("");
        let outcome = (|| -> Result<(), String> {
            check_path(path)?;
            if let Some(reason) = refuse.get(path) {
                return Err(reason.clone());
            }
            match line["type"].as_str() {
                Some("deleteFile") => bucket
                    .files
                    .remove(path)
                    .map(drop)
                    .ok_or_else(|| format!("File not found: {path}")),
                kind => {
                    if !is_xet_hash(&line["xetHash"]) {
                        return Err("xetHash: expected 64 hexadecimal characters".into());
                    }
                    if kind == Some("copyFile")
                        && (line["sourceRepoType"].as_str().is_none()
                            || line["sourceRepoId"].as_str().is_none())
                    {
                        return Err("copyFile needs sourceRepoType and sourceRepoId".into());
                    }
                    let hash = line["xetHash"].as_str().unwrap_or("");
                    let size = line["size"]
                        .as_u64()
                        .or_else(|| sizes.get(hash).copied())
                        .unwrap_or(0);
                    let mut file = json!({ "type": "file", "path": path, "size": size,
                                           "xetHash": hash, "uploadedAt": now });
                    if let Some(mtime) = line["mtime"].as_i64().and_then(millis_to_time) {
                        file["mtime"] = json!(mtime);
                    }
                    if let Some(content_type) = line["contentType"].as_str() {
                        file["contentType"] = json!(content_type);
                    }
                    bucket.files.insert(path.to_owned(), file);
                    Ok(())
                }
            }
        })();
        if let Err(error) = outcome {
            failed.push(json!({ "path": path, "error": error }));
        }
    }
    bucket.updated_at = now;
    let processed = lines.len();
    let succeeded = processed - failed.len();
    let status = if succeeded == 0 { 422 } else { 200 };
    Response::json(
        status,
        &json!({ "success": failed.is_empty(), "processed": processed,
                 "succeeded": succeeded, "failed": failed }),
    )
}

fn xet_token(state: &HubState, req: &Request) -> Response {
    let cas_url = state
        .buckets
        .cas_url
        .clone()
        .unwrap_or_else(|| format!("http://{}/fake-cas-not-configured", host(req)));
    let exp = jiff::Timestamp::now().as_second() + 3600;
    let token = "xet_fake_access_token";
    Response::json(
        200,
        &json!({ "casUrl": cas_url, "exp": exp, "accessToken": token }),
    )
    .header("x-xet-cas-url", cas_url.clone())
    .header("x-xet-access-token", token)
    .header("x-xet-token-expiration", exp.to_string())
}

pub(super) fn routes(router: Router, state: &Shared) -> Router {
    let router = router.route(
        "POST",
        "/api/buckets/{namespace}/{name}",
        authed(state, |state, req, params| {
            let namespace = namespace_of(state, &params["namespace"]);
            if !state.may_use(&namespace) {
                return hub_error(
                    403,
                    &format!("You don't have the rights to create a bucket under the namespace '{namespace}'"),
                );
            }
            let body = if req.body.is_empty() {
                json!({})
            } else {
                match json_body(req) {
                    Ok(body) => body,
                    Err(e) => return e,
                }
            };
            let private = match (body.get("visibility"), body.get("private")) {
                (Some(v), _) if v == "private" => true,
                (Some(v), _) if v == "public" => false,
                (Some(v), _) => {
                    return hub_error(400, &format!("visibility: Invalid enum value {v}, expected 'public' | 'private'"));
                }
                (None, Some(Value::Bool(private))) => *private,
                (None, Some(_)) => return hub_error(400, "private: Expected boolean"),
                (None, None) => false,
            };
            if let Some(region) = body.get("region")
                && region != "us"
                && region != "eu"
            {
                return hub_error(400, &format!("region: Invalid enum value {region}"));
            }
            let name = &params["name"];
            let id = format!("{namespace}/{name}");
            let url = format!("http://{}/buckets/{id}", host(req));
            if let Some(existing) = state.buckets.buckets.get(&id) {
                return Response::json(
                    409,
                    &json!({ "error": "You already created this bucket", "url": url,
                             "id": existing.object_id }),
                )
                .header("x-error-message", "You already created this bucket");
            }
            let object_id = state.next_id();
            let now = state.now();
            state.buckets.buckets.insert(
                id.clone(),
                BucketState {
                    object_id: object_id.clone(),
                    private,
                    created_at: now.clone(),
                    updated_at: now,
                    files: BTreeMap::new(),
                },
            );
            Response::json(200, &json!({ "url": url, "name": id, "id": object_id }))
        }),
    );
    let router = router.route(
        "GET",
        "/api/buckets/{namespace}/{name}",
        authed(state, |state, _, params| match visible(state, params) {
            Ok((id, bucket)) => Response::json(200, &info(&id, bucket)),
            Err(denied) => denied,
        }),
    );
    let router = router.route(
        "DELETE",
        "/api/buckets/{namespace}/{name}",
        authed(state, |state, _, params| {
            let id = match writable(state, params) {
                Ok((id, _)) => id,
                Err(denied) => return denied,
            };
            state.buckets.buckets.remove(&id);
            Response::new(200)
        }),
    );
    let router = router.route(
        "GET",
        "/api/buckets/{namespace}",
        authed(state, |state, req, params| {
            let namespace = namespace_of(state, &params["namespace"]);
            let mine = state.may_use(&namespace);
            let search = req.query("search").unwrap_or("");
            let items: Vec<Value> = state
                .buckets
                .buckets
                .iter()
                .filter(|(id, b)| id.starts_with(&format!("{namespace}/")) && (mine || !b.private))
                .filter(|(id, _)| id.split('/').nth(1).is_some_and(|n| n.contains(search)))
                .map(|(id, b)| info(id, b))
                .collect();
            page(req, items, state.buckets.page_size, &req.path)
        }),
    );
    let mut router = router;
    for pattern in [
        "/api/buckets/{namespace}/{name}/tree",
        "/api/buckets/{namespace}/{name}/tree/{prefix}",
        "/api/buckets/{namespace}/{name}/tree/{*rest}",
    ] {
        router = router.route(
            "GET",
            pattern,
            authed(state, |state, req, params| {
                let recursive = match req.query("recursive") {
                    None | Some("false") => false,
                    Some("true") => true,
                    Some(_) => return hub_error(400, "recursive: Expected boolean"),
                };
                let prefix = params
                    .get("prefix")
                    .cloned()
                    .or_else(|| {
                        params.get("rest").map(|rest| {
                            url::form_urlencoded::parse(
                                format!("x={}", rest.replace('+', "%2B")).as_bytes(),
                            )
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                        })
                    })
                    .unwrap_or_default();
                let page_size = state.buckets.page_size;
                let prefix = prefix.trim_matches('/').to_owned();
                match visible(state, params) {
                    Ok((_, bucket)) => {
                        page(req, tree(bucket, &prefix, recursive), page_size, &req.path)
                    }
                    Err(denied) => denied,
                }
            }),
        );
    }
    let router = router.route(
        "POST",
        "/api/buckets/{namespace}/{name}/paths-info",
        authed(state, |state, req, params| {
            let body = match json_body(req) {
                Ok(body) => body,
                Err(e) => return e,
            };
            let Some(paths) = body["paths"].as_array() else {
                return hub_error(400, "paths: Expected array, received undefined");
            };
            if paths.len() > 1000 {
                return hub_error(400, "paths: Array must contain at most 1000 element(s)");
            }
            match visible(state, params) {
                Ok((_, bucket)) => {
                    let found: Vec<&Value> = paths
                        .iter()
                        .filter_map(|p| p.as_str())
                        .filter_map(|p| bucket.files.get(p))
                        .collect();
                    Response::json(200, &found)
                }
                Err(denied) => denied,
            }
        }),
    );
    let router = router.route(
        "POST",
        "/api/buckets/{namespace}/{name}/batch",
        authed(state, batch),
    );
    let router = router.route(
        "GET",
        "/api/buckets/{namespace}/{name}/xet-write-token",
        authed(state, |state, req, params| {
            if let Err(denied) = writable(state, params) {
                return denied;
            }
            xet_token(state, req)
        }),
    );
    router.route(
        "GET",
        "/api/buckets/{namespace}/{name}/xet-read-token",
        authed(state, |state, req, params| {
            if let Err(denied) = visible(state, params) {
                return denied;
            }
            xet_token(state, req)
        }),
    )
}
