//! The etr standard library's spec sources, embedded so the compiler (which does no IO) gets them
//! as text from the driver.
//!
//! A module's name is its path under `stdlib/` with `/` as `.` and without the `.etr` extension:
//! `stdlib/etr/record.etr` is `etr.record`, which a spec imports with `use etr.record`.

/// A stdlib module: its dotted name and its source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdlibModule {
    pub name: &'static str,
    /// The path shown in diagnostics.
    pub path: &'static str,
    pub text: &'static str,
}

/// Every stdlib module, in a stable order.
pub const MODULES: &[StdlibModule] = &[
    StdlibModule { name: "etr.record", path: "stdlib/etr/record.etr", text: include_str!("../etr/record.etr") },
    StdlibModule { name: "etr.codes", path: "stdlib/etr/codes.etr", text: include_str!("../etr/codes.etr") },
    StdlibModule {
        name: "etr.rules.standard",
        path: "stdlib/etr/rules/standard.etr",
        text: include_str!("../etr/rules/standard.etr"),
    },
];

/// The module with this dotted name.
pub fn module(name: &str) -> Option<&'static StdlibModule> {
    MODULES.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_paths() {
        for m in MODULES {
            let expected = m.path.trim_start_matches("stdlib/").trim_end_matches(".etr").replace('/', ".");
            assert_eq!(m.name, expected);
            assert!(module(m.name).is_some());
        }
        assert!(module("etr.nope").is_none());
    }
}
