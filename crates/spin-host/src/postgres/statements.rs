//! Running a statement on a pooled connection: all rows at once, a row
//! count, or rows streamed to the guest. Statements stay prepared on their
//! connection (deadpool's cache per connection), so a guest's usual
//! statements cost one round trip, not two.

use std::sync::Arc;

use deadpool_postgres::ClientWrapper;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Statement;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::errors::query_failed;
use super::params::to_sql_params;
use super::pools::Lent;
use super::pools::Params;
use super::rows::{convert_row, data_type};
use crate::bindings::spin::postgres::postgres::{Column, DbValue, Error, ParameterValue, RowSet};
use crate::streams::CHANNEL_CAPACITY;

fn param_refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn columns_of(statement: &Statement) -> Vec<Column> {
    statement
        .columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            data_type: data_type(c.type_()),
        })
        .collect()
}

/// Distinct statements a connection keeps prepared; past this the cache
/// starts over, so a guest that builds its statements' text (values
/// inlined) cannot grow it, or the server's memory, without bound.
const MAX_PREPARED_PER_CONNECTION: usize = 256;

/// Prepares `text` on `client`, or reuses its earlier preparation, and
/// runs `run` with it. A prepared statement the server no longer has (the
/// guest ran `DEALLOCATE` or `DISCARD ALL`) or whose result DDL changed is
/// prepared again and run once more: a failed statement changed nothing.
async fn with_prepared<T, F, R>(
    client: &ClientWrapper,
    text: &str,
    run: F,
) -> Result<(Statement, T), tokio_postgres::Error>
where
    F: Fn(Statement) -> R,
    R: Future<Output = Result<T, tokio_postgres::Error>>,
{
    let cache = &client.statement_cache;
    if cache.size() >= MAX_PREPARED_PER_CONNECTION {
        cache.clear();
    }
    let statement = client.prepare_cached(text).await?;
    match run(statement.clone()).await {
        Err(error) if is_stale(&error) => {
            cache.remove(text, &[]);
            let statement = client.prepare_cached(text).await?;
            // Inside a transaction the retry fails too (it is aborted): the
            // guest is better served by the first error.
            let outcome = run(statement.clone()).await.map_err(|_| error)?;
            Ok((statement, outcome))
        }
        outcome => Ok((statement, outcome?)),
    }
}

fn is_stale(error: &tokio_postgres::Error) -> bool {
    // 0A000 is also "cached plan must not change result type".
    matches!(error.code(), Some(code) if *code == SqlState::INVALID_SQL_STATEMENT_NAME
        || *code == SqlState::FEATURE_NOT_SUPPORTED)
}

pub(super) async fn query(
    client: &ClientWrapper,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<RowSet, Error> {
    let params = to_sql_params(params)?;
    let refs = &param_refs(&params);
    let (statement, rows) = with_prepared(client, statement, |statement| async move {
        client.query(&statement, refs).await
    })
    .await
    .map_err(query_failed)?;
    Ok(RowSet {
        columns: columns_of(&statement),
        rows: rows.iter().map(convert_row).collect::<Result<_, _>>()?,
    })
}

pub(super) async fn execute(
    client: &ClientWrapper,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<u64, Error> {
    let params = to_sql_params(params)?;
    let refs = &param_refs(&params);
    let (_, count) = with_prepared(client, statement, |statement| async move {
        client.execute(&statement, refs).await
    })
    .await
    .map_err(query_failed)?;
    Ok(count)
}

/// Starts `statement` and streams its rows through a bounded channel from a
/// task that keeps the connection until the last row is read (or the reader
/// goes away); the outcome arrives last. Errors before the first row fail
/// the call itself.
pub(super) async fn start_query(
    client: Arc<Lent>,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<
    (
        Vec<Column>,
        mpsc::Receiver<Vec<DbValue>>,
        oneshot::Receiver<Result<(), Error>>,
    ),
    Error,
> {
    let params = to_sql_params(params)?;
    let params = &params;
    let wrapper: &ClientWrapper = &client;
    let (statement, rows) = with_prepared(wrapper, statement, |statement| async move {
        wrapper.query_raw(&statement, param_refs(params)).await
    })
    .await
    .map_err(query_failed)?;
    let columns = columns_of(&statement);
    let (rows_tx, rows_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut rows = std::pin::pin!(rows);
        let outcome = loop {
            let row = match rows.next().await {
                None => break Ok(()),
                Some(Err(e)) => break Err(query_failed(e)),
                Some(Ok(row)) => row,
            };
            match convert_row(&row) {
                Ok(values) => {
                    if rows_tx.send(values).await.is_err() {
                        break Ok(()); // The guest stopped reading.
                    }
                }
                Err(e) => break Err(e),
            }
        };
        drop(rows_tx);
        _ = done_tx.send(outcome);
        drop(client);
    });
    Ok((columns, rows_rx, done_rx))
}
