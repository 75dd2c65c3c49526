//! The ids the DevOps API hands out: a time stamp made unique with `_2`, `_3` …
//! (`build_20260314_120501_2`), or a prefix and a zero-padded number (`wh_20260314_0001`).

/// `stamp`, else `stamp_2`, `stamp_3` …: the first that is not `taken`.
pub(crate) fn stamped(stamp: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut id = stamp.to_string();
    let mut n = 1;
    while taken(&id) {
        n += 1;
        id = format!("{stamp}_{n}");
    }
    id
}

/// `prefix` and the first number from `first`, `width` digits at least, that is not `taken`;
/// and that number.
pub(crate) fn counted(
    prefix: &str,
    first: u64,
    width: usize,
    taken: impl Fn(&str) -> bool,
) -> (String, u64) {
    let mut n = first;
    loop {
        let id = format!("{prefix}{n:0width$}");
        if !taken(&id) {
            return (id, n);
        }
        n += 1;
    }
}

/// `prefix` and a number of `width` digits at least: one more than the ids of `existing` that
/// start with `prefix`, or the first after it that none of them is.
pub(crate) fn next_in<'a>(
    prefix: &str,
    width: usize,
    existing: impl Iterator<Item = &'a str> + Clone,
) -> String {
    let first = 1 + existing.clone().filter(|id| id.starts_with(prefix)).count() as u64;
    counted(prefix, first, width, |id| existing.clone().any(|e| e == id)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_skip_what_is_taken() {
        let taken = ["run_1", "run_1_2"];
        assert_eq!(stamped("run_1", |id| taken.contains(&id)), "run_1_3");
        assert_eq!(stamped("run_2", |id| taken.contains(&id)), "run_2");
        let taken = ["wh_0001", "wh_0002"];
        assert_eq!(
            counted("wh_", 1, 4, |id| taken.contains(&id)),
            ("wh_0003".to_string(), 3)
        );
        assert_eq!(counted("p", 7, 2, |_| false).0, "p07");
        assert_eq!(counted("t", 1000, 3, |_| false).0, "t1000");
        let existing = ["wh_0001", "wh_0003", "other"];
        assert_eq!(next_in("wh_", 4, existing.iter().copied()), "wh_0004");
        assert_eq!(next_in("wh_", 4, ["wh_0002"].iter().copied()), "wh_0003");
        assert_eq!(next_in("p", 2, std::iter::empty()), "p01");
    }
}
