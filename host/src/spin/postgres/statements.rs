//! Running a statement on a pooled connection: all rows at once, a row
//! count, or rows streamed to the guest.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Statement;
use tokio_postgres::types::ToSql;

use super::errors::query_failed;
use super::params::to_sql_params;
use super::pools::Lent;
use super::pools::Params;
use super::rows::{convert_row, data_type};
use crate::spin::bindings::spin::postgres::postgres::{
    Column, DbValue, Error, ParameterValue, RowSet,
};
use crate::spin::streams::CHANNEL_CAPACITY;

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

pub(super) async fn query(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<RowSet, Error> {
    let params = to_sql_params(params)?;
    let statement = client.prepare(statement).await.map_err(query_failed)?;
    let rows = client
        .query(&statement, &param_refs(&params))
        .await
        .map_err(query_failed)?;
    Ok(RowSet {
        columns: columns_of(&statement),
        rows: rows.iter().map(convert_row).collect::<Result<_, _>>()?,
    })
}

pub(super) async fn execute(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<u64, Error> {
    let params = to_sql_params(params)?;
    client
        .execute(statement, &param_refs(&params))
        .await
        .map_err(query_failed)
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
    let statement = client.prepare(statement).await.map_err(query_failed)?;
    let columns = columns_of(&statement);
    let rows = client
        .query_raw(&statement, param_refs(&params))
        .await
        .map_err(query_failed)?;
    drop(params);
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
