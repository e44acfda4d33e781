//! "Did you mean ...?": the closest known name to a misspelt one.

/// The candidate closest to `name` by edit distance (case-insensitive), if it is close enough to
/// be a plausible typo: at most a third of the name's length, and at least one edit allowed.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&lowered, &candidate.to_lowercase());
        // Ties go to the alphabetically first name, so suggestions never depend on hash order.
        if distance <= limit && best.is_none_or(|(d, c)| distance < d || (distance == d && candidate < c)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The help line for an unknown name.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Levenshtein distance over chars, in O(len(a) * len(b)) time and O(len(b)) memory.
pub fn edit_distance(a: &str, b: &str) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
