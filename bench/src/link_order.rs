//! How much of the release build's function order (`cli/link/meshctl.order`,
//! see `cli/build.rs`) the measured binary still follows: the names are mangled
//! with hashes that change with the toolchain and dependencies, and a name the
//! binary no longer defines is skipped by the linker without a word, so the
//! report says how many still match.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

/// "2,340 of 2,340 functions" (found in the binary of those listed), or why not known.
pub fn coverage(meshctl: &Path, order: &Path) -> String {
    let listed = match std::fs::read_to_string(order) {
        Ok(s) => s,
        Err(e) => return format!("unknown ({}: {e})", order.display()),
    };
    let out = match Command::new("nm")
        .arg("--defined-only")
        .arg(meshctl)
        .output()
    {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            return format!(
                "unknown (nm: {})",
                String::from_utf8_lossy(&o.stderr).trim()
            );
        }
        Err(e) => return format!("unknown (nm: {e}; apt-get install binutils)"),
    };
    let nm = String::from_utf8_lossy(&out.stdout);
    let defined = defined_functions(&nm);
    let (found, total) = matched(&listed, &defined);
    format!(
        "{found} of {total} functions of `cli/link/meshctl.order` are in the binary{}",
        if found * 10 < total * 9 {
            " (stale: regenerate with `bench/link-order.sh`)"
        } else {
            ""
        }
    )
}

/// Text symbols of `nm --defined-only` output.
fn defined_functions(nm: &str) -> HashSet<&str> {
    nm.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (_, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
            matches!(kind, "t" | "T" | "w" | "W").then_some(name)
        })
        .collect()
}

/// (listed names the binary defines, listed names).
fn matched(listed: &str, defined: &HashSet<&str>) -> (usize, usize) {
    let names: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let found = names.iter().filter(|n| defined.contains(*n)).count();
    (found, names.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_listed_functions_the_binary_defines() {
        let nm = "0000000000001000 T _ZN4main17h0123E\n0000000000002000 t _ZN3foo17habcdE\n0000000000003000 r _ZN5table17h9E\n                 U malloc\n";
        let defined = defined_functions(nm);
        assert_eq!(defined.len(), 2);
        // A data symbol and a name from an older build do not count.
        let listed = "_ZN4main17h0123E\n_ZN3foo17habcdE\n_ZN5table17h9E\n_ZN3foo17hOLDE\n\n";
        assert_eq!(matched(listed, &defined), (2, 4));
    }

    #[test]
    fn the_binary_under_test_is_checked_with_nm() {
        // This test binary is not meshctl: none of the order's names are in it,
        // and the report says so rather than failing.
        let exe = std::env::current_exe().expect("test binary");
        let order = crate::dataplane::workspace_root().join("cli/link/meshctl.order");
        let line = coverage(&exe, &order);
        assert!(line.contains(" of ") && line.contains("stale"), "{line}");
    }
}
