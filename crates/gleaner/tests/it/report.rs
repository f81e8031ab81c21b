//! The selection report in a real browser: `gleaner run car` on real records (one of them
//! carrying an HTML payload) writes `report.html`; headless Chromium (Debian's `chromium`,
//! installed by scripts/test.sh) loads it. The DOM after its script ran must show the counts of
//! `summary.json`, one map point per row and the payload as text; the page must log no console
//! message and trap no script error; the screenshot must not be blank.
//!
//! `GLEANER_REPORT_SHOTS=DIR cargo test --release -p gleaner --test it -- --ignored report_screenshots`
//! writes the README's screenshots (car, superfilter and lcg on the bundled sample, with the
//! settings of scripts/demo.sh; `GLEANER_REPORT_RUNS=DIR` reuses the work dirs of such runs).

use crate::util::{ok, root, skip, tmp};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The headless browser, if installed.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GLEANER_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Runs headless Chromium on `page` with `args`; returns (stdout, stderr).
pub fn browse(browser: &Path, page: &Path, args: &[&str]) -> (String, String) {
    browse_at(browser, page, "", args)
}

/// [`browse`] at a fragment of the page (`#row-3`).
pub fn browse_at(browser: &Path, page: &Path, fragment: &str, args: &[&str]) -> (String, String) {
    let profile = tmp();
    let url = format!("file://{}{fragment}", page.canonicalize().unwrap().display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", profile.path().display()),
        ])
        .args(args)
        .arg(&url)
        .output()
        .expect("run chromium");
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Console messages Chromium logged for the page (`…:CONSOLE(line)] "text", source: …`).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect()
}

/// Text of HTML attribute values and text nodes as the DOM serialiser writes them.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Every value of attribute `attr` in `html`, unescaped, in order.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let key = format!("{attr}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            unescape(&rest[..rest.find('"').unwrap()])
        })
        .collect()
}

/// The element with `id`'s `data-n`.
fn data_n(dom: &str, id: &str) -> u64 {
    let key = format!("id=\"{id}\" data-n=\"");
    let i = dom.find(&key).unwrap_or_else(|| panic!("no #{id} with data-n")) + key.len();
    dom[i..dom[i..].find('"').unwrap() + i].parse().unwrap()
}

/// A tiny PNG reader (8-bit RGB/RGBA, non-interlaced, as Chromium writes): width, height and
/// the pixels as RGB triples.
pub fn png_pixels(bytes: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    use std::io::Read as _;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut w, mut h, mut bpp) = (0, 0, 0);
    let mut idat = Vec::new();
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        let kind = &bytes[i + 4..i + 8];
        let data = &bytes[i + 8..i + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                assert_eq!(data[12], 0, "interlaced");
                bpp = match data[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("PNG colour type {t}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        i += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
    let stride = w * bpp;
    let mut prev = vec![0u8; stride];
    let mut px = Vec::with_capacity(w * h);
    for y in 0..h {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let mut cur = line[1..].to_vec();
        for x in 0..stride {
            let a = if x >= bpp { cur[x - bpp] as i32 } else { 0 };
            let b = prev[x] as i32;
            let c = if x >= bpp { prev[x - bpp] as i32 } else { 0 };
            let add = match line[0] {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("PNG filter {f}"),
            };
            cur[x] = cur[x].wrapping_add(add as u8);
        }
        px.extend(cur.chunks(bpp).map(|p| [p[0], p[1], p[2]]));
        prev = cur;
    }
    (w, h, px)
}

/// The share of pixels unlike the top-left one, and the number of distinct colours.
fn ink(png: &Path) -> (f64, usize) {
    let (_, _, px) = png_pixels(&std::fs::read(png).unwrap());
    let bg = px[0];
    let differ = px.iter().filter(|p| **p != bg).count();
    let colours: std::collections::HashSet<[u8; 3]> = px.iter().copied().collect();
    (differ as f64 / px.len() as f64, colours.len())
}

/// 150 real records of the bundled sample, with an HTML payload in the 4th record's
/// instruction.
fn input_with_payload(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("data/sample/alpaca_en_demo.json")).unwrap();
    let mut v: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    v.truncate(150);
    v[3]["instruction"] = serde_json::Value::from("<script>window.__gleaner_pwned = 1</script> Is this escaped?");
    let p = dir.join("payload.json");
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    p
}

#[test]
fn report_renders_in_headless_chromium_with_the_runs_counts() {
    let Some(browser) = chromium() else {
        skip("report_renders_in_headless_chromium", "no chromium (apt-get install -y chromium)");
        return;
    };
    let dir = tmp();
    let input = input_with_payload(dir.path());
    let out = dir.path().join("car.json");
    let (i, o) = (input.display().to_string(), out.display().to_string());
    ok(&["run", "car", &i, "-o", &o, "--n1", "20"]);
    let work = dir.path().join("car.json.gleaner");
    let page = work.join("report.html");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("summary.json")).unwrap()).unwrap();

    // `gleaner report` renders the same page from the work directory alone
    let again = dir.path().join("again.html");
    ok(&["report", &work.display().to_string(), "-o", &again.display().to_string()]);
    assert_eq!(std::fs::read_to_string(&page).unwrap(), std::fs::read_to_string(&again).unwrap());

    let (dom, stderr) = browse(&browser, &page, &["--dump-dom"]);
    assert!(dom.contains("data-js=\"ok\""), "the page's script did not finish:\n{stderr}");
    let errors = dom.split("id=\"js-errors\"").nth(1).unwrap();
    assert!(errors.starts_with(" hidden=\"\"></pre>"), "script errors: {}", &errors[..errors.len().min(400)]);
    assert!(console_lines(&stderr).is_empty(), "console messages:\n{}", console_lines(&stderr).join("\n"));

    // counts: rows in, kept, each drop rule's rows, kept per reason
    assert_eq!(data_n(&dom, "rows-in"), summary["rows_in"].as_u64().unwrap());
    assert_eq!(data_n(&dom, "kept"), summary["kept"].as_u64().unwrap());
    let shown: Vec<(String, u64)> = attr_values(&dom, "data-reason")
        .into_iter()
        .zip(attr_values(&dom, "data-rows").into_iter().map(|n| n.parse().unwrap()))
        .collect();
    let mut want: Vec<(String, u64)> = summary["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["reason"].as_str().unwrap().to_string(), d["rows"].as_u64().unwrap()))
        .collect();
    for (why, n) in summary["kept_by_reason"].as_object().unwrap() {
        want.push((why.clone(), n.as_u64().unwrap()));
    }
    assert_eq!(shown, want);

    // one map point per row (150 rows, all embedded, under the sampling threshold)
    assert_eq!(dom.matches("<circle ").count(), 150);
    assert_eq!(attr_values(&dom, "data-points")[0], "150");
    assert!(dom.contains("data-sampled=\"false\""));

    // the payload is text, not markup: in the DOM the script built for its map point (the page
    // opened on row 3 pins it), and in the map data
    let (pinned, _) = browse_at(&browser, &page, "#row-3", &["--dump-dom"]);
    let card = pinned.split("id=\"pick\"").nth(1).unwrap();
    assert!(card.contains("&lt;script&gt;window.__gleaner_pwned = 1&lt;/script&gt; Is this escaped?"), "{card:.2000}");
    for d in [&dom, &pinned] {
        assert!(!d.contains("<script>window.__gleaner_pwned"));
        assert!(!d.contains("__gleaner_pwned = 1</script>"));
    }
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("\\u003cscript\\u003ewindow.__gleaner_pwned"), "payload in the map data");
    assert_eq!(html.matches("<script").count(), 3, "only the page's own script elements");

    // no network: no URL the page could fetch
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="));

    // the screenshot is not blank: ink on a good share of it, in several colours
    let shot = dir.path().join("shot.png");
    browse(&browser, &page, &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2400"]);
    let (share, colours) = ink(&shot);
    assert!(share > 0.03 && colours > 20, "blank screenshot? {share:.3} of pixels inked, {colours} colours");
}

#[test]
fn dedup_then_car_report_shows_the_duplicate_clusters() {
    let Some(browser) = chromium() else {
        skip("dedup_then_car_report_shows_the_duplicate_clusters", "no chromium (apt-get install -y chromium)");
        return;
    };
    // the bundled sample holds exact duplicate records; the recipe's MinHash stage finds them
    let dir = tmp();
    let out = dir.path().join("picked.json");
    let input = root().join("data/sample/alpaca_en_demo.json");
    ok(&["run", "--recipe", "dedup-then-car", &input.display().to_string(), "-o", &out.display().to_string()]);
    let work = dir.path().join("picked.json.gleaner");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("summary.json")).unwrap()).unwrap();
    let stages = summary["dedup"].as_array().unwrap();
    assert_eq!(stages.len(), 2, "two dedup stages (minhash, semantic)");
    assert!(stages[0]["duplicates"].as_u64().unwrap() > 0, "the sample's duplicates were not found");

    let (dom, stderr) = browse(&browser, &work.join("report.html"), &["--dump-dom"]);
    assert!(dom.contains("data-js=\"ok\""), "the page's script did not finish:\n{stderr}");
    assert!(console_lines(&stderr).is_empty(), "console messages:\n{}", console_lines(&stderr).join("\n"));
    let section =
        dom.split("<section id=\"dedup\">").nth(1).expect("no duplicates section").split("</section>").next().unwrap();
    let dups: Vec<u64> = attr_values(section, "data-duplicates").iter().map(|n| n.parse().unwrap()).collect();
    let want: Vec<u64> = stages.iter().map(|d| d["duplicates"].as_u64().unwrap()).collect();
    assert_eq!(dups, want, "duplicates per stage as in summary.json");
    let sizes: Vec<u64> = attr_values(section, "data-size").iter().map(|n| n.parse().unwrap()).collect();
    let want: Vec<u64> = stages
        .iter()
        .flat_map(|d| d["largest_clusters"].as_array().unwrap().iter().map(|c| c["size"].as_u64().unwrap()))
        .collect();
    assert!(!sizes.is_empty() && sizes == want, "clusters shown {sizes:?}, in summary.json {want:?}");
    // each shown cluster carries its kept text and a dropped member's text
    let first = &stages[0]["largest_clusters"][0];
    let kept_text = first["kept"].as_str().unwrap().split_whitespace().take(6).collect::<Vec<_>>().join(" ");
    assert!(unescape(section).contains(&kept_text), "kept text `{kept_text}` not shown");
    assert!(section.matches("class=\"ex gone\"").count() >= sizes.len());
}

#[test]
fn the_error_trap_and_the_console_check_can_fail() {
    let Some(browser) = chromium() else {
        skip("the_error_trap_and_the_console_check_can_fail", "no chromium (apt-get install -y chromium)");
        return;
    };
    // a report whose script throws: the trap must show it in the DOM, and Chromium logs it
    let dir = tmp();
    let mut r = gleaner_report::html::Report { recipe: "broken".into(), ..Default::default() };
    r.rows.push(gleaner_report::html::Row::default());
    let html = gleaner_report::html::render(&r)
        .replace("\"use strict\";", "\"use strict\"; setTimeout(function () { null.x; }, 0);");
    let page = dir.path().join("broken.html");
    std::fs::write(&page, html).unwrap();
    let (dom, stderr) = browse(&browser, &page, &["--dump-dom", "--virtual-time-budget=1000"]);
    assert!(dom.contains("error: Uncaught TypeError"), "trap missed the error:\n{dom}");
    assert!(!console_lines(&stderr).is_empty(), "no console line for an uncaught error:\n{stderr}");
}

/// The README's screenshots: one page per method on the bundled sample (the settings of
/// scripts/demo.sh), each section captured alone (`#only-SECTION`).
#[test]
#[ignore = "writes the README's screenshots: GLEANER_REPORT_SHOTS=docs/report"]
fn report_screenshots() {
    let Some(browser) = chromium() else {
        skip("report_screenshots", "no chromium");
        return;
    };
    let shots = PathBuf::from(std::env::var("GLEANER_REPORT_SHOTS").unwrap_or_else(|_| "docs/report".into()));
    let shots = if shots.is_absolute() { shots } else { root().join(shots) };
    std::fs::create_dir_all(&shots).unwrap();
    let dir = tmp();
    let input = root().join("data/sample/alpaca_en_demo.json").display().to_string();
    // (method, its arguments, the sections to capture with their window heights)
    type Shots<'a> = (&'a str, Vec<&'a str>, &'a [(&'a str, u32)]);
    let runs: [Shots<'_>; 3] = [
        (
            "car",
            vec!["run", "car", &input, "--n1", "100"],
            &[
                ("funnel", 520),
                ("scores", 640),
                ("map-section", 860),
                ("coverage", 560),
                ("baselines", 760),
                ("run", 700),
            ],
        ),
        (
            "superfilter",
            vec!["run", "superfilter", &input, "--limit", "120", "--ratio", "0.1"],
            &[("funnel", 420), ("scores", 1000)],
        ),
        (
            "lcg",
            vec!["run", "lcg", &input, "--k", "10", "--pseudo", "20", "--seeds", "2", "--budget", "150"],
            &[("scores", 420), ("map-section", 860)],
        ),
    ];
    // GLEANER_REPORT_RUNS=DIR: reuse DIR/NAME.json.gleaner of earlier runs with these settings
    // (the page is rendered again by `gleaner report`)
    let runs_dir = std::env::var_os("GLEANER_REPORT_RUNS").map(PathBuf::from);
    for (name, mut args, sections) in runs {
        let page = dir.path().join(format!("{name}.html"));
        match &runs_dir {
            Some(d) => {
                let work = d.join(format!("{name}.json.gleaner")).display().to_string();
                ok(&["report", &work, "-o", &page.display().to_string()]);
            }
            None => {
                let out = dir.path().join(format!("{name}.json")).display().to_string();
                args.extend(["-o", &out]);
                ok(&args);
                std::fs::copy(dir.path().join(format!("{name}.json.gleaner/report.html")), &page).unwrap();
            }
        }
        for (section, height) in sections {
            let shot = shots.join(format!("{name}-{section}.png"));
            let url_page = page.with_file_name(format!("only-{section}.html"));
            // the same page, opened on one section (the script hides the others)
            std::fs::write(
                &url_page,
                std::fs::read_to_string(&page).unwrap().replace("<body>", &format!("<body data-only=\"{section}\">")),
            )
            .unwrap();
            browse(
                &browser,
                &url_page,
                &[&format!("--screenshot={}", shot.display()), &format!("--window-size=1000,{height}")],
            );
        }
    }
}
