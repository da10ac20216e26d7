//! Athena: start one query, wait for it (or stop it), read its result pages.
use super::{explain, Clients};
use anyhow::Result;
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration};

/// Where a query stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryState {
    /// Queued or running; bytes scanned so far.
    Running {
        queued: bool,
        scanned: i64,
    },
    Succeeded {
        scanned: i64,
    },
    /// Failed or cancelled, with Athena's reason.
    Failed(String),
}

/// Starts `sql` in `workgroup` (Athena's default `primary` when `None`), its results written to `output` when
/// given (else the workgroup's location). Returns the query execution id.
pub async fn start_query(
    c: &Clients,
    sql: &str,
    workgroup: Option<&str>,
    output: Option<&str>,
) -> Result<String> {
    let mut req = c.athena.start_query_execution().query_string(sql);
    if let Some(w) = workgroup {
        req = req.work_group(w);
    }
    if let Some(o) = output {
        req = req.result_configuration(ResultConfiguration::builder().output_location(o).build());
    }
    let r = req
        .send()
        .await
        .map_err(|e| explain(e, "starting the Athena query (athena:StartQueryExecution)"))?;
    Ok(r.query_execution_id().unwrap_or_default().to_string())
}

/// The state of query `id`.
pub async fn query_state(c: &Clients, id: &str) -> Result<QueryState> {
    let r = c
        .athena
        .get_query_execution()
        .query_execution_id(id)
        .send()
        .await
        .map_err(|e| explain(e, "waiting for the Athena query (athena:GetQueryExecution)"))?;
    let q = r.query_execution();
    let scanned = q
        .and_then(|q| q.statistics())
        .and_then(|s| s.data_scanned_in_bytes())
        .unwrap_or(0);
    let status = q.and_then(|q| q.status());
    let reason = status
        .and_then(|s| s.state_change_reason())
        .unwrap_or("no reason given")
        .to_string();
    Ok(match status.and_then(|s| s.state()) {
        Some(QueryExecutionState::Succeeded) => QueryState::Succeeded { scanned },
        Some(QueryExecutionState::Failed) => QueryState::Failed(reason),
        Some(QueryExecutionState::Cancelled) => QueryState::Failed(format!("cancelled: {reason}")),
        Some(QueryExecutionState::Queued) => QueryState::Running {
            queued: true,
            scanned,
        },
        _ => QueryState::Running {
            queued: false,
            scanned,
        },
    })
}

/// Stops query `id` (athena:StopQueryExecution).
pub async fn stop_query(c: &Clients, id: &str) -> Result<()> {
    c.athena
        .stop_query_execution()
        .query_execution_id(id)
        .send()
        .await
        .map_err(|e| explain(e, "stopping the Athena query (athena:StopQueryExecution)"))?;
    Ok(())
}

/// Every row of query `id`'s results, page after page (up to 1,000 rows a page), as Athena gives them: the first
/// row of the first page is the header. `on_page` hears the rows read so far.
pub async fn result_rows(
    c: &Clients,
    id: &str,
    on_page: &dyn Fn(usize),
) -> Result<Vec<Vec<Option<String>>>> {
    let mut pages = c
        .athena
        .get_query_results()
        .query_execution_id(id)
        .max_results(1000)
        .into_paginator()
        .send();
    let mut rows = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| explain(e, "reading the Athena results (athena:GetQueryResults)"))?;
        if let Some(set) = page.result_set() {
            rows.extend(set.rows().iter().map(|row| {
                row.data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_owned))
                    .collect()
            }));
        }
        on_page(rows.len());
    }
    Ok(rows)
}
