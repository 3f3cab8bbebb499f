use super::*;

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn headers_are_screaming_snake_case() {
    assert_eq!(to_header("job_id"), "JOB_ID");
    assert_eq!(to_header("image/space"), "IMAGE/SPACE");
    assert_eq!(to_header("createdAt"), "CREATED_AT");
    assert_eq!(to_header("pretty name"), "PRETTY NAME");
}

/// The `hf jobs ps -a` table Python prints at 80 columns for the same two jobs.
#[test]
fn ps_table_matches_python_at_80_columns() {
    let headers = strings(&[
        "JOB_ID",
        "NAME",
        "IMAGE/SPACE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "RUNTIME",
    ]);
    let mut rows = vec![
        strings(&[
            "000000000000690000000001",
            "hello",
            "python:3.12",
            "python -c print('hi')",
            "2026-11-23 17:21:53",
            "RUNNING",
            "--",
        ]),
        strings(&[
            "000000000000690000000002",
            "N/A",
            "ubuntu:latest",
            "echo done",
            "2026-11-23 17:21:53",
            "COMPLETED",
            "--",
        ]),
    ];
    assert!(truncate_columns(&headers, &mut rows, 80));
    let table = tabulate(&headers, &rows, &[false; 7]);
    let expected = "\
JOB_ID        NAME  IMAGE/SPACE   COMMAND       CREATED        STATUS    RUNTIME
------------- ----- ------------- ------------- -------------- --------- -------
0000000000... hello python:3.12   python -c ... 2026-11-23 ... RUNNING   --     
0000000000... N/A   ubuntu:latest echo done     2026-11-23 ... COMPLETED --     ";
    assert_eq!(table, expected);
}

#[test]
fn wide_terminals_keep_every_cell() {
    let headers = strings(&["A", "B"]);
    let mut rows = vec![strings(&["long value here", "x"])];
    assert!(!truncate_columns(&headers, &mut rows, 200));
    assert_eq!(rows[0][0], "long value here");
}

#[test]
fn columns_never_shrink_below_their_floor() {
    let headers = strings(&["NAME", "X"]);
    let mut rows = vec![strings(&["abcdefgh", "abcdefgh"])];
    truncate_columns(&headers, &mut rows, 5);
    assert_eq!(rows[0], strings(&["a...", "a..."]));
}

#[test]
fn numbers_align_right() {
    let rows = vec![
        vec![Cell::text("a"), Cell::Float(5.0)],
        vec![Cell::text("bb"), Cell::Float(1.5)],
    ];
    let right = numeric_columns(&rows, 2);
    assert_eq!(right, vec![false, true]);
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(Cell::human).collect())
        .collect();
    assert_eq!(
        tabulate(&strings(&["N", "VALUE"]), &shown, &right),
        "N  VALUE\n-- -----\na    5.0\nbb   1.5"
    );
}

#[test]
fn cells_render_per_mode() {
    assert_eq!(Cell::text("2026-01-15T10:30:00.000Z").human(), "2026-01-15");
    assert_eq!(
        Cell::text("2026-01-15T10:30:00.000Z").agent(),
        "2026-01-15T10:30:00.000Z"
    );
    assert_eq!(Cell::text("a\n  b\x1b").human(), "a b\\u{1b}");
    assert_eq!(Cell::Bool(true).human(), "✔");
    assert_eq!(Cell::Bool(false).human(), "");
    assert_eq!(Cell::Bool(false).agent(), "False");
    assert_eq!(Cell::Float(8.0).human(), "8.0");
}

#[test]
fn durations_and_sizes() {
    assert_eq!(format_duration(None), "--");
    assert_eq!(format_duration(Some(45.0)), "45s");
    assert_eq!(format_duration(Some(187.0)), "3m 7s");
    assert_eq!(format_duration(Some(9861.0)), "2h 44m");
    assert_eq!(format_size(4_000_000_000.0), "4.0G");
    assert_eq!(format_size(980.0), "980.0");
    assert_eq!(format_size(1_000_000.0), "1.0M");
}
