use super::*;

fn drawn(region: LiveRegion<Vec<u8>>) -> String {
    String::from_utf8(region.into_inner()).unwrap()
}

#[test]
fn short_lines_take_one_row_each() {
    assert_eq!(rows("a\nbb\n", 80), 3);
    assert_eq!(rows("", 80), 1);
    assert_eq!(rows("JOB ID  CPU %\n------  -----\nabc     42%", 80), 3);
}

#[test]
fn wrapped_lines_take_one_row_per_wrap() {
    // 25 characters on a 10-column terminal: 10 + 10 + 5.
    assert_eq!(rows(&"x".repeat(25), 10), 3);
    // Exactly the width: the cursor waits at the margin, the line break ends the row.
    assert_eq!(rows(&"x".repeat(10), 10), 1);
    assert_eq!(rows(&"x".repeat(11), 10), 2);
    // A table whose rows are wider than the terminal.
    let table = format!("{}\n{}\n{}", "h".repeat(15), "-".repeat(15), "v".repeat(30));
    assert_eq!(rows(&table, 10), 2 + 2 + 3);
    // A zero width (unknown terminal) counts as one column rather than dividing by zero.
    assert_eq!(rows("abc", 0), 3);
}

#[test]
fn width_counts_characters_not_bytes_nor_colours() {
    assert_eq!(width("✓ café"), 6);
    assert_eq!(width("\x1b[32m✓ done\x1b[0m"), 6);
    assert_eq!(width("\x1b[2K"), 0);
}

#[test]
fn redrawing_moves_up_over_every_row_of_the_previous_drawing() {
    let mut region = LiveRegion::new(Vec::new());
    region.draw(&"a".repeat(25), 10);
    assert_eq!(region.rows(), 3);
    region.draw("short\nlines", 10);
    assert_eq!(region.rows(), 2);
    region.clear();
    assert_eq!(region.rows(), 0);
    assert_eq!(
        drawn(region),
        format!(
            "{}\n\x1b[3A\r\x1b[Jshort\nlines\n\x1b[2A\r\x1b[J",
            "a".repeat(25)
        )
    );
}

#[test]
fn kept_drawings_stay_on_screen() {
    let mut region = LiveRegion::new(Vec::new());
    region.draw("Uploading 100%", 80);
    region.keep();
    region.clear();
    region.draw("next", 80);
    assert_eq!(drawn(region), "Uploading 100%\nnext\n");
}
