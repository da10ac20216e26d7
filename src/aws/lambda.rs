//! Lambda: the generator function's state and code.
use super::{code, explain, Clients};
use anyhow::Result;

/// What `status` reports about the function.
#[derive(Debug, Clone)]
pub struct FunctionState {
    pub state: String,
    pub last_update_status: String,
    pub state_reason: Option<String>,
    pub code_sha256: String,
    pub runtime: String,
}

pub async fn state(c: &Clients, function: &str) -> Result<Option<FunctionState>> {
    match c
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
    {
        Ok(r) => Ok(Some(FunctionState {
            state: r
                .state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "Unknown".into()),
            last_update_status: r
                .last_update_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "Unknown".into()),
            state_reason: r.state_reason().map(str::to_string),
            code_sha256: r.code_sha256().unwrap_or_default().to_string(),
            runtime: r
                .runtime()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        })),
        Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(explain(e, &format!("reading function {function}"))),
    }
}

/// The function's environment variables; `None` when the function does not exist.
pub async fn environment(
    c: &Clients,
    function: &str,
) -> Result<Option<std::collections::HashMap<String, String>>> {
    match c
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
    {
        Ok(r) => Ok(Some(
            r.environment()
                .and_then(|e| e.variables())
                .cloned()
                .unwrap_or_default(),
        )),
        Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(explain(e, &format!("reading function {function}"))),
    }
}

/// Deletes a straggling function; `false` when it did not exist.
pub async fn delete(c: &Clients, function: &str) -> Result<bool> {
    match c
        .lambda
        .delete_function()
        .function_name(function)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(explain(e, &format!("deleting function {function}"))),
    }
}

/// What a synchronous invocation answered.
#[derive(Debug, Clone)]
pub struct Invoked {
    pub status: i32,
    /// `Unhandled` (or `Handled`) when the function failed.
    pub function_error: Option<String>,
    pub payload: String,
}

/// Invokes the function synchronously (`RequestResponse`) with `payload`.
pub async fn invoke(c: &Clients, function: &str, payload: Vec<u8>) -> Result<Invoked> {
    let r = c
        .lambda
        .invoke()
        .function_name(function)
        .invocation_type(aws_sdk_lambda::types::InvocationType::RequestResponse)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send()
        .await
        .map_err(|e| explain(e, &format!("invoking function {function}")))?;
    Ok(Invoked {
        status: r.status_code(),
        function_error: r.function_error().map(str::to_string),
        payload: r
            .payload()
            .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
            .unwrap_or_default(),
    })
}
