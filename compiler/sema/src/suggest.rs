//! "Did you mean ...?": the closest known name to a misspelt one.
//!
//! The cost is bounded whatever the spec: names longer than [`MAX_SUGGESTED_CHARS`] are neither
//! given nor offered suggestions, a candidate whose length differs from the name's by more than
//! the allowed edits is skipped without computing anything, and the distance computation stops
//! as soon as it exceeds the allowed edits. So one lookup costs at most a few thousand steps per
//! candidate, whatever the length of the names in the spec.

/// Names longer than this (in chars) get no suggestion and are never suggested: nobody types a
/// name that long by hand, and comparing two of them would cost the product of their lengths.
pub(crate) const MAX_SUGGESTED_CHARS: usize = 64;

/// The candidate closest to `name` by edit distance (case-insensitive), if it is close enough to
/// be a plausible typo: at most a third of the name's length, and at least one edit allowed.
pub(crate) fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered: Vec<char> = name.to_lowercase().chars().collect();
    if lowered.len() > MAX_SUGGESTED_CHARS {
        return None;
    }
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let candidate_chars: Vec<char> = candidate.chars().take(MAX_SUGGESTED_CHARS + 1).collect();
        // Each edit changes the length by at most one: a length gap over the limit is over it.
        if candidate_chars.len() > MAX_SUGGESTED_CHARS || candidate_chars.len().abs_diff(lowered.len()) > limit {
            continue;
        }
        let candidate_lowered: Vec<char> = candidate_chars.iter().flat_map(|c| c.to_lowercase()).collect();
        let Some(distance) = bounded_edit_distance(&lowered, &candidate_lowered, limit) else { continue };
        // Ties go to the alphabetically first name, so suggestions never depend on hash order.
        if best.is_none_or(|(d, c)| distance < d || (distance == d && candidate < c)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The Levenshtein distance of `a` and `b` if it is at most `limit`; `None` as soon as every
/// alignment needs more (the smallest value of a row of the table never decreases).
fn bounded_edit_distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|&m| m > limit) {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[b.len()]).filter(|&d| d <= limit)
}

/// The help line for an unknown name.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full Levenshtein distance over chars, the oracle of the bounded search.
    fn edit_distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        let mut current = vec![0; b.len() + 1];
        for (i, ca) in a.chars().enumerate() {
            current[0] = i + 1;
            for (j, &cb) in b.iter().enumerate() {
                let substitution = previous[j] + usize::from(ca != cb);
                current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            }
            std::mem::swap(&mut previous, &mut current);
        }
        previous[b.len()]
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["outstanding_balance", "amount_due", "OS_BAL_RM"];
        assert_eq!(closest("outstandng_balance", names), Some("outstanding_balance"));
        assert_eq!(closest("os_bal_rm", names), Some("OS_BAL_RM"));
        assert_eq!(closest("zzz", names), None);
    }

    /// The cut-offs that keep suggestions cheap never hide a plausible typo of a normal name.
    #[test]
    fn bounded_search_agrees_with_the_full_distance() {
        let names = ["amount_due", "amount_paid", "AMOUNT", "a", "instalment_amount", "x".repeat(40).leak()];
        for typo in ["amount_du", "amont_due", "AMOUNT_DUE", "amuont", "b", "instalmentamount", "y", &"x".repeat(38)] {
            let brute = names
                .iter()
                .map(|c| (edit_distance(&typo.to_lowercase(), &c.to_lowercase()), *c))
                .filter(|(d, _)| *d <= (typo.chars().count() / 3).max(1))
                .min();
            assert_eq!(closest(typo, names), brute.map(|(_, c)| c), "{typo}");
        }
    }

    #[test]
    fn very_long_names_get_and_give_no_suggestion() {
        let long = "q".repeat(40_000);
        let longer = format!("{long}a");
        assert_eq!(closest(&long, [longer.as_str()]), None);
        assert_eq!(closest("q", [long.as_str(), "r"]), Some("r"));
        let at_cap = "q".repeat(MAX_SUGGESTED_CHARS);
        assert_eq!(closest(&at_cap[1..], [at_cap.as_str()]), Some(at_cap.as_str()));
    }
}
