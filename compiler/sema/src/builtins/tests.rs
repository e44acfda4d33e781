//! Tests of the builtin table: its entries agree with themselves and with the IR, each call
//! lowers through its entry's hook to the IR function of its name, and result types (aggregates'
//! especially) come from the entry's result rule.

use etr_ir::{self as ir, TypeKind};
use expect_test::expect;

use super::{ALL, AggregateLowering, BuiltinKind, ExampleScope, FAMILIES, Lowering, NoResultType, Param, ResultType};
use crate::test_fixture::{check_spec, compile};

/// A contributor spec whose lines are `X|Y` after a header `H`, like the examples' (without the
/// stdlib: it declares its own record and `Gender`), with `rest` after it.
fn example_spec(rest: &str) -> String {
    format!(
        r#"contributor T "T" layout 1
source delimited "|" {{
  quote none
  encoding "utf-8" else reject R0
  header "H" {{ first: text, second: text }}
  columns {{ X, Y }} else reject R0
}}
record Rec {{ a: text }}
code Gender {{ "M", "F" }}
map to Rec {{ a = X }}
rule R0 reject "malformed"
{rest}
"#
    )
}

#[test]
fn every_entry_agrees_with_itself() {
    let mut names = std::collections::HashSet::new();
    for signature in ALL {
        let name = signature.name;
        assert!(names.insert(name), "{name} is in the table twice");
        assert!(signature.signature.starts_with(&format!("{name}(")), "{name}: its signature names another function");
        let is_aggregate = matches!(signature.lowering, Lowering::Aggregate(_));
        assert_eq!(is_aggregate, signature.kind == BuiltinKind::Aggregate, "{name}: kind and lowering disagree");
        assert_eq!(
            signature.kind == BuiltinKind::Fallible,
            !signature.failure.is_empty(),
            "{name}: a fallible function says when it fails, and only one does"
        );
        if signature.params.contains(&Param::Rule) {
            assert!(matches!(signature.lowering, Lowering::Aggregate(AggregateLowering::LinesBroken)), "{name}");
        }
        // A result taken from the first argument needs one the checker infers.
        if matches!(signature.result, ResultType::SameAsArg | ResultType::ListOfArg) {
            let has_value = match signature.lowering {
                Lowering::Value(_) => matches!(signature.params.first(), Some(Param::Data(_))),
                Lowering::Aggregate(lowering) => matches!(lowering, AggregateLowering::Of { .. }),
                Lowering::Whole(_) => false,
            };
            assert!(has_value, "{name}: its result type comes from an argument it does not have");
        }
        let scope = if is_aggregate || signature.file_value { ExampleScope::File } else { ExampleScope::Row };
        for example in signature.examples {
            assert_eq!(example.scope, scope, "{name}: `{}` is run in the wrong scope", example.call);
            assert!(example.call.contains(&format!("{name}(")), "{name}: `{}` calls something else", example.call);
        }
    }
}

#[test]
fn all_is_every_family_in_order() {
    let families: Vec<&str> = FAMILIES.iter().flat_map(|f| f.functions).map(|s| s.name).collect();
    let all: Vec<&str> = ALL.iter().map(|s| s.name).collect();
    assert_eq!(all, families);
    assert!(FAMILIES.iter().all(|f| !f.functions.is_empty()));
}

#[test]
fn result_types_come_from_the_rule_and_the_argument() {
    let gender = |name: &str| (name == "Gender").then_some(ir::Idx::from_raw(3));
    let nothing = |_: &str| None;
    assert_eq!(ResultType::Fixed(TypeKind::Int).kind(Some(TypeKind::Text), nothing), Ok(TypeKind::Int));
    assert_eq!(ResultType::SameAsArg.kind(Some(TypeKind::Money), nothing), Ok(TypeKind::Money));
    assert_eq!(ResultType::SameAsArg.kind(Some(TypeKind::Month), nothing), Ok(TypeKind::Month));
    assert_eq!(ResultType::SameAsArg.kind(None, nothing), Err(NoResultType::NoArgument));
    assert_eq!(ResultType::ListOfArg.kind(Some(TypeKind::Date), nothing), Ok(TypeKind::List(ir::ListOf::Date)));
    assert_eq!(
        ResultType::ListOfArg.kind(Some(TypeKind::Null), nothing),
        Err(NoResultType::NotListable(TypeKind::Null))
    );
    assert_eq!(ResultType::Code("Gender").kind(Some(TypeKind::Text), gender), Ok(TypeKind::Code(ir::Idx::from_raw(3))));
    assert_eq!(
        ResultType::Code("Gender").kind(Some(TypeKind::Text), nothing),
        Err(NoResultType::CodeNotInScope("Gender"))
    );
}

/// Every per-value function, called as its first per-line example does, lowers (through its
/// entry's hook) to the IR function of its name and of its table family: the table and the IR
/// cannot drift apart.
#[test]
fn each_value_function_lowers_to_the_ir_function_of_its_name() {
    let mut checked = 0;
    for signature in ALL.iter().filter(|s| matches!(s.lowering, Lowering::Value(_))) {
        let example = signature.examples.iter().find(|e| e.scope == ExampleScope::Row).expect("a per-line example");
        let compiled = compile(&example_spec(&format!("let example = {}", example.call)));
        let program =
            compiled.program.as_ref().unwrap_or_else(|| panic!("{}: {}", example.call, compiled.diagnostics()));
        let binding = program
            .bindings
            .iter()
            .find(|b| b.target == ir::Slot::Local(ir::Idx::from_raw(0)))
            .expect("the let is bound");
        let function = match &binding.expr.kind {
            ir::ExprKind::Call { function, .. } => function,
            ir::ExprKind::Fallible { op: ir::FallibleOp::Call { function, .. }, .. } => function,
            other => panic!("{}: lowered to {other:?}", example.call),
        };
        assert_eq!(function.name(), signature.name, "{}", example.call);
        let family = FAMILIES.iter().find(|f| f.functions.iter().any(|s| s.name == signature.name)).expect("listed");
        assert_eq!(
            Some(function.family()),
            family.ir_family,
            "{}: its entry is in the family {}",
            signature.name,
            family.title
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} value functions");
}

/// The type of each aggregate's result: the argument's for `sum`, `min`, `max` and `quantile`,
/// a list of it for `distinct_values` and `modes`, fixed for the others; null over no value
/// except for counts and lists.
#[test]
fn aggregate_results_are_typed_by_their_entry() {
    let calls = [
        "count()",
        "count_broken(R0)",
        "count_where(X == \"a\")",
        "count_distinct(X)",
        "distinct_values(X)",
        "modes(parse_int(X) else null)",
        "min(parse_date(X, \"%Y-%m-%d\") else null)",
        "max(X)",
        "mean(parse_int(X) else null)",
        "stdev(parse_money(X, sen) else null)",
        "median(parse_number(X) else null)",
        "quantile(parse_month(X, \"%Y%m\") else null, 0.5)",
        "sum(parse_money(X, ringgit) else null)",
        "sum(parse_int(X) else null)",
    ];
    let checks: Vec<String> = calls
        .iter()
        .enumerate()
        .map(|(i, call)| format!("rule F{i} warn \"f\" {{ check {call} == {call} on f }}"))
        .collect();
    let compiled = compile(&example_spec(&checks.join("\n")));
    assert_eq!(compiled.diagnostics(), "");
    let types: Vec<String> =
        calls.iter().map(|call| format!("{call}: {}", compiled.type_of(call).unwrap_or("?"))).collect();
    expect![[r#"
        count(): int
        count_broken(R0): int
        count_where(X == "a"): int
        count_distinct(X): int
        distinct_values(X): list of text
        modes(parse_int(X) else null): list of int
        min(parse_date(X, "%Y-%m-%d") else null): date?
        max(X): text?
        mean(parse_int(X) else null): number?
        stdev(parse_money(X, sen) else null): number?
        median(parse_number(X) else null): number?
        quantile(parse_month(X, "%Y%m") else null, 0.5): month?
        sum(parse_money(X, ringgit) else null): money?
        sum(parse_int(X) else null): int?
    "#]]
    .assert_eq(&(types.join("\n") + "\n"));
}

#[test]
fn wrong_arguments_are_reported_from_the_table() {
    check_spec(
        &example_spec(
            r#"let a = format_date(X, "%Y")
let b = parse_money(X, dollars) else null
let c = parse_date(X, "%Q") else null
let d = matches(X, "(")
let e = remove_chars(X, Y)
let f = trim(X, Y)
let g = no_such(X)
let h = upper(X) else null
let i = parse_int(X)
rule F1 fatal "f" { check distinct_values(count_where(true)) == [] on f }
rule F2 fatal "f" { check size(distinct_values(null)) > 0 and sum(X) > 0 on f }
rule F3 fatal "f" { check quantile(parse_int(X) else null, 2) > 0 on f }
"#,
        ),
        expect![[r#"
            E300 /spec.etr "X": `format_date` expects a date or a month here, but this is text
            E302 /spec.etr "dollars": the unit must be `ringgit` or `sen`
            E303 /spec.etr "\"%Q\"": `%Q` is not supported; the directives are %Y, %m, %d, %H, %M, %S (and %y for formatting)
            E304 /spec.etr "\"(\"": the regular expression does not compile: error: unclosed group
            E302 /spec.etr "Y": the character set of `remove_chars` must be written as a string
            E301 /spec.etr "trim(X, Y)": `trim` takes 1 argument but is given 2
            E201 /spec.etr "no_such": there is no function `no_such`
            E401 /spec.etr "null": `upper` cannot fail, so it needs no `else`
            E400 /spec.etr "parse_int(X)": this can fail on data (a text that is not a whole number fails), and the spec does not say what to do then
            E502 /spec.etr "count_where(true)": `count_where()` aggregates the whole file, so it cannot be used inside another aggregate
            E300 /spec.etr "null": `distinct_values` cannot list null values
            E300 /spec.etr "X": `sum` takes int or money or number, but this is text
            E302 /spec.etr "2": the quantile must be written as a number between 0 and 1
        "#]],
    );
}

#[test]
fn a_function_returning_a_code_needs_it_in_scope() {
    check_spec(
        r#"contributor T "T" layout 1
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { X } else reject R0
}
record Rec { a: text }
map to Rec { a = X }
let g = nric_gender(X)
rule R0 reject "malformed"
"#,
        expect![[r#"
            E204 /spec.etr "nric_gender": `nric_gender` returns a `Gender`, but no `Gender` code is in scope
        "#]],
    );
}

#[test]
fn whole_call_sugar_refuses_a_needless_handler_as_every_function_does() {
    // `looks_like_date`, `type_of` and `header_values` are lowered by hooks of their own; they
    // used to accept an `else` they never use, where every other function that cannot fail
    // reports it (E401, as `upper` does here).
    check_spec(
        &example_spec(
            r#"let l = looks_like_date(X) else null
let t = type_of(X) else "text"
let u = upper(X) else null
rule F1 fatal "f" { check size(header_values() else null) > 0 on f }
"#,
        ),
        expect![[r#"
            E401 /spec.etr "null": `looks_like_date` cannot fail, so it needs no `else`
            E401 /spec.etr "\"text\"": `type_of` cannot fail, so it needs no `else`
            E401 /spec.etr "null": `upper` cannot fail, so it needs no `else`
            E401 /spec.etr "null": `header_values` cannot fail, so it needs no `else`
        "#]],
    );
}

#[test]
fn an_aggregate_of_any_kind_given_null_says_what_it_takes() {
    // An aggregate that takes any kind (`accepts: &[]`) refuses only the null literal; its
    // message used to list no kind at all ("takes , but this is null").
    check_spec(
        &example_spec(r#"rule F1 fatal "f" { check count_distinct(null) > 0 on f }"#),
        expect![[r#"
            E300 /spec.etr "null": `count_distinct` takes a value of some type, but this is null
        "#]],
    );
}
