use std::time::Instant;

use std::sync::Arc;
use std::time::Duration;

use super::address::{check_outbound, parse_address, redact};
use super::errors::error_text;
use super::numeric::{NumericParam, NumericText};
use super::pools::{Lent, Pools};
use super::statements::{execute, query, start_query};
use crate::bindings::spin::postgres::postgres::{
    DbDataType, DbValue, Error, Interval, ParameterValue, QueryError, RangeBoundKind,
};
use crate::outbound::OutboundPolicy;
use crate::unavailable::Unavailable;

/// The WIT types have no `PartialEq`: compare what they print.
macro_rules! assert_debug_eq {
    ($left:expr, $right:expr $(,)?) => {
        assert_eq!(format!("{:?}", $left), format!("{:?}", $right))
    };
}

async fn backend_pid(client: &tokio_postgres::Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

use mhmanus_test_servers::{POSTGRES_ADDRESS, POSTGRES_KEY_VALUE, POSTGRES_URL as URL};

async fn client(pools: &Pools) -> Lent {
    pools.connect(URL).await.expect("the test database is up")
}

/// Waits until every connection lent from `pools` is reset and back.
async fn all_given_back(pools: &Pools) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pools
        .figures()
        .iter()
        .any(|(_, status)| status.available < status.size)
    {
        assert!(Instant::now() < deadline, "a connection never came back");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn text(e: Error) -> String {
    error_text(&e)
}

#[tokio::test]
async fn probe_succeeds_against_the_local_server() {
    Pools::default().probe(URL).await.unwrap();
    // Key=value form too.
    Pools::default().probe(POSTGRES_KEY_VALUE).await.unwrap();
}

/// What a start-up probe of `address` says: whether waiting could help,
/// and why not now.
async fn probe(address: &str) -> (bool, String) {
    match Pools::default().probe(address).await.unwrap_err() {
        Unavailable::Unreachable(why) => (true, why),
        Unavailable::Unusable(why) => (false, why),
    }
}

#[tokio::test]
async fn probe_fails_fast_for_a_dead_server_without_showing_the_password() {
    let started = Instant::now();
    let (worth_waiting, err) = probe("postgres://postgres:s3cret@127.0.0.1:1/postgres").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(worth_waiting, "a closed port may open: {err}");
    assert!(
        err.contains("cannot connect to postgres://postgres:***@127.0.0.1:1/postgres"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");

    let (_, err) = probe("host=127.0.0.1 port=1 user=postgres password=s3cret").await;
    assert!(err.contains("host=127.0.0.1 port=1 user=postgres"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

/// A guest chooses its addresses: it cannot make the host read a file
/// its configuration does not name as a CA.
#[tokio::test]
async fn only_the_configured_ca_files_are_read() {
    let guest = &*format!("{URL}?sslmode=verify-full&sslrootcert=/etc/passwd");
    let err = Pools::default().connect(guest).await.map(drop).unwrap_err();
    let Error::ConnectionFailed(message) = err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("not a CA file of this host's own configuration"),
        "{message}"
    );
    // The configured one is read (and this one holds no certificate).
    let pools = Pools::trusting_root_files_of([guest]);
    let err = pools.connect(guest).await.map(drop).unwrap_err();
    let Error::ConnectionFailed(message) = err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("sslrootcert=/etc/passwd: no certificate"),
        "{message}"
    );
}

/// What waiting cannot fix is told apart from an outage.
#[tokio::test]
async fn probe_tells_a_configuration_that_can_never_work() {
    for (address, says) in [
        (format!("{URL}?sslmode=verify-full"), "certificate"),
        (
            format!("postgres://postgres@{POSTGRES_ADDRESS}/no_such_database_here"),
            "no_such_database_here",
        ),
        (format!("{URL}?sslmode=on"), "sslmode=on"),
        (
            "host=127.0.0.1 port".to_owned(),
            "invalid connection string",
        ),
    ] {
        let (worth_waiting, why) = probe(&address).await;
        assert!(!worth_waiting, "{address}: {why}");
        assert!(why.contains(says), "{address}: {why}");
    }
}

/// Whether the session `url` gets is encrypted, as the server sees it.
async fn encrypted(url: &str) -> bool {
    let client = Pools::default().connect(url).await.expect("connects");
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// The local server offers TLS (a self-signed certificate): `prefer`, the
/// default, and `require` encrypt; `disable` does not.
#[tokio::test]
async fn sslmode_decides_whether_the_session_is_encrypted() {
    assert!(encrypted(URL).await, "prefer is the default");
    assert!(encrypted(&format!("{URL}?sslmode=prefer")).await);
    assert!(encrypted(&format!("{URL}?sslmode=require")).await);
    assert!(!encrypted(&format!("{URL}?sslmode=disable")).await);
    assert!(encrypted(&format!("{POSTGRES_KEY_VALUE} sslmode=require")).await);
}

/// A self-signed certificate is no CA the system trusts: verify-full is
/// refused, naming the address and what did not verify, never the password.
#[tokio::test]
async fn a_certificate_that_does_not_verify_is_refused() {
    let err = Pools::default()
        .connect(&format!(
            "postgres://postgres:s3cret@{POSTGRES_ADDRESS}/postgres?sslmode=verify-full"
        ))
        .await
        .map(drop)
        .unwrap_err();
    let Error::ConnectionFailed(message) = err else {
        panic!("{err:?}")
    };
    assert!(
        message.starts_with(&format!(
            "cannot connect to postgres://postgres:***@{POSTGRES_ADDRESS}/postgres"
        )),
        "{message}"
    );
    assert!(message.contains("certificate"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

#[test]
fn invalid_addresses_are_reported_without_their_text() {
    let err = text(parse_address("host=x password=s3cret port 5").unwrap_err());
    assert_eq!(
        err,
        "invalid connection string: unexpected character at byte 28: expected `=`"
    );
    assert_eq!(redact("host=x password='s3cret"), "(an unreadable address)");
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(
        redact("postgres://u:s3cret@db:5433/app?password=s3cret&application_name=x"),
        "postgres://u:***@db:5433/app?password=***&application_name=x"
    );
    assert_eq!(redact("postgres://db/app"), "postgres://db/app");
    assert_eq!(
        redact("host=db port=5433 user=u password=s3cret dbname=app"),
        "host=db port=5433 user=u dbname=app"
    );
    assert_eq!(
        redact("postgres://u:s3cret@a:1,b:2/app"),
        "host=a,b port=1,2 user=u dbname=app"
    );
}

#[test]
fn outbound_policy_is_enforced_for_both_address_forms() {
    let policy =
        OutboundPolicy::new(["postgres://db.internal:5432", "postgres://10.0.0.5:*"]).unwrap();
    let ok = |address: &str| check_outbound(&policy, address).is_ok();
    assert!(ok("postgres://u:pw@db.internal/app"));
    assert!(ok("postgresql://db.internal:5432/app"));
    assert!(ok("host=db.internal user=u dbname=app"));
    assert!(ok("host=10.0.0.5 port=6543"));
    assert!(ok("hostaddr=10.0.0.5"));
    assert!(!ok("postgres://db.internal:5433/app"));
    assert!(!ok("host=db.internal port=5433"));
    assert!(!ok("host=elsewhere"));
    assert!(!ok("host=db.internal,elsewhere"));
    // The driver connects to hostaddr, so it must be allowed too.
    assert!(!ok("host=db.internal hostaddr=10.9.9.9"));
    assert!(!ok("postgres://db.internal/app?hostaddr=10.9.9.9"));
    assert!(!ok("postgres://db.internal/app?host=elsewhere"));
    assert!(!ok("host=/var/run/postgresql"));
    assert!(!ok("user=u"));

    let err = text(check_outbound(&policy, "postgres://u:s3cret@evil:5432/app").unwrap_err());
    assert_eq!(
        err,
        "access denied: postgres://u:***@evil:5432/app is not in allowed_outbound_hosts"
    );
    let err = text(check_outbound(&policy, "host=evil password=s3cret").unwrap_err());
    assert_eq!(
        err,
        "access denied: host=evil is not in allowed_outbound_hosts"
    );

    let v6 = OutboundPolicy::new(["postgres://[::1]:5432"]).unwrap();
    assert!(check_outbound(&v6, "host=::1").is_ok());
    assert!(check_outbound(&v6, "postgres://[::1]/app").is_ok());
}

fn p(values: Vec<ParameterValue>) -> Vec<ParameterValue> {
    values
}

#[tokio::test]
async fn values_round_trip() {
    use ParameterValue as P;
    let pools = Pools::default();
    let client = client(&pools).await;
    client
        .batch_execute(
            "CREATE TEMP TABLE everything (
                b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
                t text, vc varchar(10), bp char(3), by bytea, jb jsonb, js json, id uuid,
                tstz timestamptz, ts timestamp, d date, tm time, n numeric,
                r4 int4range, r8 int8range, rn numrange,
                a4 int4[], a8 int8[], an numeric[], at text[], iv interval,
                nothing text, ip inet)",
        )
        .await
        .unwrap();
    let uuid = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let inserted = execute(
        &client,
        "INSERT INTO everything VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
            $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, '10.1.2.3')",
        p(vec![
            P::Boolean(true),
            P::Int8(-8),
            P::Int32(-32),
            P::Int64(i64::MIN),
            P::Floating32(1.5),
            P::Floating64(-2.25),
            P::Str("héllo".into()),
            P::Str("short".into()),
            P::Str("ab".into()),
            P::Binary(vec![0, 1, 254, 255]),
            P::Jsonb(br#"{"a": [1, true, null]}"#.to_vec()),
            P::Jsonb(br#"{"k":"v"}"#.to_vec()),
            P::Uuid(uuid.into()),
            P::Timestamp(1_700_000_000),
            P::Datetime((2024, 2, 29, 23, 59, 58, 123_456_000)),
            P::Date((1999, 12, 31)),
            P::Time((7, 8, 9, 10_000)),
            P::Decimal("-12345.678900".into()),
            P::RangeInt32((
                Some((1, RangeBoundKind::Inclusive)),
                Some((10, RangeBoundKind::Exclusive)),
            )),
            P::RangeInt64((Some((5, RangeBoundKind::Exclusive)), None)),
            P::RangeDecimal((None, Some(("2.50".into(), RangeBoundKind::Inclusive)))),
            P::ArrayInt32(vec![Some(1), None, Some(3)]),
            P::ArrayInt64(vec![Some(i64::MAX)]),
            P::ArrayDecimal(vec![Some("0.001".into()), None]),
            P::ArrayStr(vec![Some("x".into()), None, Some("".into())]),
            P::Interval(Interval {
                micros: 3_723_000_004,
                days: 2,
                months: 14,
            }),
            P::DbNull,
        ]),
    )
    .await
    .unwrap();
    assert_eq!(inserted, 1);

    let set = query(&client, "SELECT * FROM everything", vec![])
        .await
        .unwrap();
    let types: Vec<DbDataType> = set.columns.iter().map(|c| c.data_type.clone()).collect();
    use DbDataType as T;
    assert_debug_eq!(
        types,
        vec![
            T::Boolean,
            T::Int16,
            T::Int32,
            T::Int64,
            T::Floating32,
            T::Floating64,
            T::Str,
            T::Str,
            T::Str,
            T::Binary,
            T::Jsonb,
            T::Jsonb,
            T::Uuid,
            T::Datetime,
            T::Datetime,
            T::Date,
            T::Time,
            T::Decimal,
            T::RangeInt32,
            T::RangeInt64,
            T::RangeDecimal,
            T::ArrayInt32,
            T::ArrayInt64,
            T::ArrayDecimal,
            T::ArrayStr,
            T::Interval,
            T::Str,
            T::Other("inet".into()),
        ]
    );
    assert_eq!(set.columns[0].name, "b");
    use DbValue as V;
    let expected = vec![
        V::Boolean(true),
        V::Int16(-8),
        V::Int32(-32),
        V::Int64(i64::MIN),
        V::Floating32(1.5),
        V::Floating64(-2.25),
        V::Str("héllo".into()),
        V::Str("short".into()),
        V::Str("ab ".into()),
        V::Binary(vec![0, 1, 254, 255]),
        V::Jsonb(br#"{"a":[1,true,null]}"#.to_vec()),
        V::Jsonb(br#"{"k":"v"}"#.to_vec()),
        V::Uuid(uuid.into()),
        V::Datetime((2023, 11, 14, 22, 13, 20, 0)),
        V::Datetime((2024, 2, 29, 23, 59, 58, 123_456_000)),
        V::Date((1999, 12, 31)),
        V::Time((7, 8, 9, 10_000)),
        V::Decimal("-12345.678900".into()),
        V::RangeInt32((
            Some((1, RangeBoundKind::Inclusive)),
            Some((10, RangeBoundKind::Exclusive)),
        )),
        // PostgreSQL makes integer ranges canonical: (5,) is [6,).
        V::RangeInt64((Some((6, RangeBoundKind::Inclusive)), None)),
        V::RangeDecimal((None, Some(("2.50".into(), RangeBoundKind::Inclusive)))),
        V::ArrayInt32(vec![Some(1), None, Some(3)]),
        V::ArrayInt64(vec![Some(i64::MAX)]),
        V::ArrayDecimal(vec![Some("0.001".into()), None]),
        V::ArrayStr(vec![Some("x".into()), None, Some("".into())]),
        V::Interval(Interval {
            micros: 3_723_000_004,
            days: 2,
            months: 14,
        }),
        V::DbNull,
        // inet 10.1.2.3/32 in binary form: family, bits, is_cidr, length, address.
        V::Unsupported(vec![2, 32, 0, 4, 10, 1, 2, 3]),
    ];
    assert_debug_eq!(set.rows, vec![expected]);

    // PostgreSQL agrees on what was stored.
    let row = client
        .query_one(
            "SELECT tstz = to_timestamp(1700000000), ts::text, tm::text, iv::text, rn::text
             FROM everything",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "2024-02-29 23:59:58.123456");
    assert_eq!(row.get::<_, String>(2), "07:08:09.00001");
    assert_eq!(
        row.get::<_, String>(3),
        "1 year 2 mons 2 days 01:02:03.000004"
    );
    assert_eq!(row.get::<_, String>(4), "(,2.50]");

    // Empty results still name their columns.
    let set = query(&client, "SELECT b, n FROM everything WHERE false", vec![])
        .await
        .unwrap();
    assert_eq!(set.columns.len(), 2);
    assert!(set.rows.is_empty());
}

#[tokio::test]
async fn numeric_text_matches_postgres() {
    let pools = Pools::default();
    let client = client(&pools).await;
    let cases = [
        "0",
        "0.0",
        "-0.5",
        "1",
        "-1",
        "9999",
        "10000",
        "12345678901234567890.123456789",
        "0.00001234",
        "0.1",
        "100000000",
        "1.0000",
        "-98765.4321",
        "3.14159e2",
        "1e-7",
        "2E+5",
        "+42",
        ".5",
        "5.",
        "NaN",
        "Infinity",
        "-Infinity",
        "123456789012345678901234567890",
    ];
    for case in cases {
        let ours = NumericParam::parse(case).unwrap();
        let row = client
            .query_one(
                "SELECT $1::numeric::text, $2::text::numeric::text, $2::text::numeric",
                &[&ours, &case],
            )
            .await
            .unwrap();
        let (bound, parsed): (String, String) = (row.get(0), row.get(1));
        assert_eq!(bound, parsed, "binding {case}");
        let NumericText(read) = row.get(2);
        assert_eq!(read, parsed, "reading {case}");
    }
    for bad in ["", "-", "1.2.3", "abc", "1e", "1e99999999", "--1", "nan1"] {
        assert!(
            NumericParam::parse(bad).is_err(),
            "{bad:?} should be refused"
        );
    }
}

#[tokio::test]
async fn integers_and_floats_bind_to_any_width() {
    use ParameterValue as P;
    let pools = Pools::default();
    let client = client(&pools).await;
    client
        .batch_execute("CREATE TEMP TABLE widths (s int2, i int4, b int8, f real, d double precision, n numeric)")
        .await
        .unwrap();
    let n = execute(
        &client,
        "INSERT INTO widths VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            P::Int64(7),
            P::Int8(8),
            P::Int16(9),
            P::Floating64(0.5),
            P::Floating32(0.25),
            P::Int32(10),
        ],
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let set = query(&client, "SELECT * FROM widths", vec![])
        .await
        .unwrap();
    assert_debug_eq!(
        set.rows[0],
        vec![
            DbValue::Int16(7),
            DbValue::Int32(8),
            DbValue::Int64(9),
            DbValue::Floating32(0.5),
            DbValue::Floating64(0.25),
            DbValue::Decimal("10".into()),
        ]
    );
    let err = execute(
        &client,
        "INSERT INTO widths (s) VALUES ($1)",
        vec![P::Int32(40_000)],
    )
    .await
    .unwrap_err();
    assert!(text(err).contains("40000 is out of range for type int2"));
    let err = execute(
        &client,
        "INSERT INTO widths (s) VALUES ($1)",
        vec![P::Uuid("nope".into())],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::BadParameter(m) if m.starts_with("parameter $1: invalid UUID")),
        "{err:?}"
    );
    let err = query(&client, "SELECT $1::date", vec![P::Date((2023, 2, 29))])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadParameter(m) if m.contains("invalid date 2023-02-29")),
        "{err:?}"
    );
}

#[tokio::test]
async fn domains_and_enums() {
    use ParameterValue as P;
    let pools = Pools::default();
    let client = client(&pools).await;
    client
        .batch_execute(
            "CREATE DOMAIN pg_temp.positive AS int CHECK (VALUE > 0);
             CREATE TYPE pg_temp.mood AS ENUM ('sad', 'ok', 'happy');
             CREATE TEMP TABLE feelings (n pg_temp.positive, m pg_temp.mood, ms pg_temp.mood[])",
        )
        .await
        .unwrap();
    execute(
        &client,
        "INSERT INTO feelings VALUES ($1, $2, $3)",
        vec![
            P::Int64(3),
            P::Str("happy".into()),
            P::ArrayStr(vec![Some("ok".into())]),
        ],
    )
    .await
    .unwrap();
    let set = query(
        &client,
        "SELECT n, m FROM feelings WHERE m = $1",
        vec![P::Str("happy".into())],
    )
    .await
    .unwrap();
    assert_debug_eq!(set.columns[0].data_type, DbDataType::Int32);
    assert_debug_eq!(set.columns[1].data_type, DbDataType::Str);
    assert_debug_eq!(
        set.rows,
        vec![vec![DbValue::Int32(3), DbValue::Str("happy".into())]]
    );
    let err = execute(
        &client,
        "INSERT INTO feelings (n) VALUES ($1)",
        vec![P::Int32(-1)],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "23514"),
        "{err:?}"
    );
}

#[tokio::test]
async fn database_errors_are_structured() {
    let pools = Pools::default();
    let client = client(&pools).await;
    client
        .batch_execute("CREATE TEMP TABLE uniq (k int CONSTRAINT uniq_k PRIMARY KEY)")
        .await
        .unwrap();
    execute(&client, "INSERT INTO uniq VALUES (1)", vec![])
        .await
        .unwrap();
    let err = execute(&client, "INSERT INTO uniq VALUES (1)", vec![])
        .await
        .unwrap_err();
    let Error::QueryFailed(QueryError::DbError(db)) = err else {
        panic!("{err:?}")
    };
    assert_eq!(db.code, "23505");
    assert_eq!(db.severity, "ERROR");
    assert!(db.message.contains("duplicate key"), "{}", db.message);
    assert_eq!(db.detail.as_deref(), Some("Key (k)=(1) already exists."));
    assert!(
        db.extras.contains(&("constraint".into(), "uniq_k".into())),
        "{:?}",
        db.extras
    );
    assert!(db.as_text.contains("duplicate key"), "{}", db.as_text);

    let err = query(&client, "SELEC 1", vec![]).await.unwrap_err();
    assert!(
        matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "42601"),
        "{err:?}"
    );
    let err = query(&client, "SELECT $1::int", vec![]).await.unwrap_err();
    assert!(
        matches!(err, Error::QueryFailed(QueryError::Text(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn rows_stream_and_the_outcome_comes_last() {
    let pools = Pools::default();
    let client = Arc::new(client(&pools).await);
    let (columns, mut rows, done) = start_query(
        client.clone(),
        "SELECT x, x::text AS label FROM generate_series(1, $1::int) AS x",
        vec![ParameterValue::Int32(1000)],
    )
    .await
    .unwrap();
    assert_eq!(columns[1].name, "label");
    assert_debug_eq!(columns[0].data_type, DbDataType::Int32);
    let mut count = 0;
    while let Some(row) = rows.recv().await {
        count += 1;
        assert_debug_eq!(row[0], DbValue::Int32(count));
    }
    assert_eq!(count, 1000);
    done.await.unwrap().unwrap();

    // A failure part-way arrives after the rows before it.
    let (_, mut rows, done) = start_query(
        client.clone(),
        "SELECT 1 / (500 - x) FROM generate_series(1, 1000) AS x",
        vec![],
    )
    .await
    .unwrap();
    let mut count = 0;
    while rows.recv().await.is_some() {
        count += 1;
    }
    assert!(count < 500, "{count}");
    let err = done.await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "22012"),
        "{err:?}"
    );

    // A reader that goes away stops the query and frees the connection.
    let (_, rows, done) = start_query(client.clone(), "SELECT generate_series(1, 1000000)", vec![])
        .await
        .unwrap();
    drop(rows);
    done.await.unwrap().unwrap();
    let n = query(&client, "SELECT 1", vec![]).await.unwrap();
    assert_debug_eq!(n.rows, vec![vec![DbValue::Int32(1)]]);

    // Errors before any row fail the call itself.
    let err = start_query(client, "SELECT nope", vec![])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "42703"),
        "{err:?}"
    );
}

#[tokio::test]
async fn pooled_connections_come_back_clean() {
    // One pool of our own, so the recycled connection is the one we dirtied.
    let pools = Pools::default();
    let first = client(&pools).await;
    let first_pid = backend_pid(&first).await;
    first
        .batch_execute(
            "SET application_name = 'dirty'; BEGIN; CREATE TEMP TABLE leftover (x int);
             SELECT pg_advisory_lock(42)",
        )
        .await
        .unwrap();
    drop(first);
    all_given_back(&pools).await;

    let second = client(&pools).await;
    assert_eq!(
        backend_pid(&second).await,
        first_pid,
        "the connection was reused"
    );
    let row = second
        .query_one(
            "SELECT txid_current_if_assigned() IS NULL,
                    to_regclass('pg_temp.leftover') IS NULL,
                    current_setting('application_name'),
                    (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the transaction was rolled back");
    assert!(row.get::<_, bool>(1), "the temporary table is gone");
    assert_eq!(row.get::<_, String>(2), "mhmanus-host");
    assert_eq!(row.get::<_, i64>(3), 0, "advisory locks are released");

    // A failed transaction is rolled back too.
    second.batch_execute("BEGIN").await.unwrap();
    second.batch_execute("SELECT 1/0").await.unwrap_err();
    drop(second);
    all_given_back(&pools).await;
    let third = client(&pools).await;
    assert_eq!(backend_pid(&third).await, first_pid);
    let row = third.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
}

#[tokio::test]
async fn statements_stay_prepared_and_survive_deallocation_and_ddl() {
    let pools = Pools::default();
    let client = Arc::new(client(&pools).await);
    let add = "SELECT $1::int4 + 1";
    for _ in 0..3 {
        query(&client, add, vec![ParameterValue::Int32(1)])
            .await
            .unwrap();
    }
    let prepared = |text: &'static str| {
        let client = client.clone();
        async move {
            client
                .query_one(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
                    &[&text],
                )
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(prepared(add).await, 1, "prepared once, run three times");

    // The guest throws the server's statements away: the next run prepares again.
    execute(&client, "DEALLOCATE ALL", vec![]).await.unwrap();
    let sum = query(&client, add, vec![ParameterValue::Int32(1)])
        .await
        .unwrap();
    assert_debug_eq!(sum.rows, vec![vec![DbValue::Int32(2)]]);

    // DDL changes what a prepared `SELECT *` returns.
    execute(&client, "CREATE TEMP TABLE shape (a int)", vec![])
        .await
        .unwrap();
    let star = "SELECT * FROM shape";
    assert_eq!(query(&client, star, vec![]).await.unwrap().columns.len(), 1);
    execute(&client, "ALTER TABLE shape ADD COLUMN b int", vec![])
        .await
        .unwrap();
    assert_eq!(query(&client, star, vec![]).await.unwrap().columns.len(), 2);

    // Statements with their values inlined do not pile up on the server.
    for i in 0..300 {
        query(&client, &format!("SELECT {i}"), vec![])
            .await
            .unwrap();
    }
    let on_server: i64 = client
        .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .await
        .unwrap()
        .get(0);
    assert!(on_server <= 257, "{on_server} statements prepared");
}
