//! Account: the regions enabled in the account (Account API Reference, ListRegions: `RegionOptStatusContains`
//! filters by `ENABLED`, `ENABLED_BY_DEFAULT`, `ENABLING`, `DISABLING`, `DISABLED`; answers `Regions[]` of
//! `RegionName`, `RegionOptStatus` and a `NextToken` while there are more; `MaxResults` at most 50).
use super::{explain, Clients};
use anyhow::Result;
use aws_sdk_account::types::RegionOptStatus;

/// Every region enabled in the account: enabled by default, and opted in (sorted, each once).
pub async fn enabled_regions(c: &Clients) -> Result<Vec<String>> {
    let mut out = std::collections::BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let r = c
            .account
            .list_regions()
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .max_results(50)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                explain(
                    e,
                    "listing the account's enabled regions (account:ListRegions)",
                )
            })?;
        out.extend(
            r.regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_string)),
        );
        match r.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    Ok(out.into_iter().collect())
}
