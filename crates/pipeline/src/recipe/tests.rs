use super::*;

fn err_of(text: &str) -> String {
    let p = Path::new("r.toml");
    match parse(text, p).and_then(|r| validate(&r, text, p).map(|_| r)) {
        Ok(_) => panic!("recipe should be refused:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_bundled_recipe_round_trips_through_toml_and_validates() {
    for r in bundled() {
        let text = to_toml(&r);
        let back = parse(&text, Path::new("x.toml")).unwrap_or_else(|e| panic!("{}: {e}\n{text}", r.name));
        assert_eq!(back, r, "{text}");
        validate(&back, &text, Path::new("x.toml")).unwrap_or_else(|e| panic!("{}: {e}", r.name));
    }
    let names: Vec<String> = bundled().into_iter().map(|r| r.name).collect();
    for n in ["car", "cherry", "superfilter", "superfilter-d", "lcg", "pre-experience", "random", "longest"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
}

#[test]
fn unknown_stage_names_the_line() {
    let e = err_of(
        "name = \"x\"\n\n[[stage]]\nstage = \"score\"\nscorer = \"random\"\n\n[[stage]]\nstage = \"sort\"\nby = \"random\"\n",
    );
    assert!(e.starts_with("r.toml:7:") || e.starts_with("r.toml:8:"), "{e}");
    assert!(e.contains("sort"), "{e}");
}

#[test]
fn unknown_key_and_wrong_type_name_the_key() {
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"score\"\nscorer = \"random\"\nsed = 4\n");
    assert!(e.contains("sed"), "{e}");
    assert!(e.starts_with("r.toml:"), "{e}");
    let e = err_of(
        "name = \"x\"\n[[stage]]\nstage = \"score\"\nscorer = \"random\"\n[[stage]]\nstage = \"select\"\nrule = \"car\"\nby = \"random\"\nn1 = \"many\"\nn2 = 1\n",
    );
    assert!(e.contains("n1") || e.contains("invalid type"), "{e}");
}

#[test]
fn missing_parameter_is_named() {
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"embed\"\nmodel = \"m\"\n");
    assert!(e.contains("text"), "{e}");
}

#[test]
fn impossible_order_names_stage_line_and_key() {
    let text = "name = \"x\"\n\n[[stage]]\nstage = \"score\"\nscorer = \"random\"\n\n[[stage]]\nstage = \"select\"\nrule = \"top-k\"\nby = \"quality\"\nbudget = 3\n";
    let e = err_of(text);
    assert!(e.starts_with("r.toml:10: stage 2 (`select`), key `by`"), "{e}");
    assert!(e.contains("`quality`") && e.contains("random"), "{e}");
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"cluster\"\npca = 0.95\nk = \"car\"\nn_init = 3\nseed = 1\n");
    assert!(e.contains("needs embeddings"), "{e}");
}

#[test]
fn dedup_stage_is_checked() {
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"dedup\"\nkeep = \"score:quality\"\n");
    assert!(e.contains("`quality`") && e.contains("key `keep`"), "{e}");
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"dedup\"\nkeep = \"best\"\n");
    assert!(e.contains("first") && e.contains("longest"), "{e}");
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"dedup\"\nthreshold = 1.5\n");
    assert!(e.contains("threshold"), "{e}");
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"dedup\"\nmethod = \"fuzzy\"\n");
    assert!(e.contains("fuzzy"), "{e}");
    let e = err_of("name = \"x\"\n[[stage]]\nstage = \"dedup\"\nfields = \"prompt\"\nturns = \"user\"\n");
    assert!(e.contains("turns"), "{e}");
    let ok = "name = \"x\"\n[[stage]]\nstage = \"score\"\nscorer = \"random\"\n[[stage]]\nstage = \"dedup\"\nmethod = \"exact\"\nkeep = \"score:random\"\n";
    validate(&parse(ok, Path::new("r.toml")).unwrap(), ok, Path::new("r.toml")).unwrap();
}
