//! Which images a rule applies to, reproduced from Kyverno's own matching so the explanation
//! agrees with the admission controller, including its surprises (`nginx` is
//! `docker.io/nginx:latest`, never `docker.io/library/nginx`; a digest drops the tag).
//!
//! ClusterPolicy: `pkg/utils/image/infos.go` (`addDefaultRegistry`, `ImageInfo.String`) and
//! IGLOU-EU/go-wildcard v1.0.3. ImageValidatingPolicy: gobwas/glob without separators, on the raw
//! image string.

/// Kyverno's default for the `defaultRegistry` setting of its ConfigMap.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// The string a ClusterPolicy's `imageReferences` are matched against, or why Kyverno would
/// refuse the image ("bad image").
pub fn normalise_image(image: &str, default_registry: &str) -> Result<String, String> {
    let full = match image.find('/') {
        None => format!("{default_registry}/{image}"),
        Some(i) => {
            let first = &image[..i];
            // An upper-case first segment cannot be a repository path, so Kyverno takes it as a
            // registry host and adds nothing.
            if !first.contains(['.', ':']) && first != "localhost" && first.to_lowercase() == first {
                format!("{default_registry}/{image}")
            } else {
                image.to_string()
            }
        }
    };
    let (name, digest) = match full.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (full.as_str(), None),
    };
    let (registry, rest) = name.split_once('/').ok_or_else(|| format!("bad image: {full}: no repository"))?;
    let (path, tag) = match rest.rfind(':') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if registry.is_empty() || path.is_empty() {
        return Err(format!("bad image: {full}: empty registry or repository"));
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("bad image: {full}: repository name must be lowercase"));
    }
    if path.split('/').any(|seg| seg.is_empty() || !seg.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
    {
        return Err(format!("bad image: {full}: invalid repository name"));
    }
    if let Some(t) = tag
        && (t.is_empty() || t.len() > 128 || !t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
    {
        return Err(format!("bad image: {full}: invalid tag"));
    }
    if let Some(d) = digest {
        let Some((alg, hex)) = d.split_once(':') else {
            return Err(format!("bad image: {full}: invalid digest"));
        };
        if alg.is_empty() || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("bad image: {full}: invalid digest"));
        }
        return Ok(format!("{registry}/{path}@{d}"));
    }
    Ok(format!("{registry}/{path}:{}", tag.unwrap_or("latest")))
}

/// go-wildcard v1.0.3: `*` any run of characters (`/` included), `?` exactly one character,
/// everything else literal; the whole text must match.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether a ClusterPolicy `verifyImages` entry applies: any `imageReferences` pattern matches
/// the normalised image and no `skipImageReferences` pattern does.
pub fn cluster_policy_applies(
    image_references: &[String],
    skip_image_references: &[String],
    image: &str,
) -> Result<ClusterMatch, String> {
    let normalised = normalise_image(image, DEFAULT_REGISTRY)?;
    let Some(matched) = image_references.iter().find(|p| wildcard_match(p, &normalised)) else {
        return Ok(ClusterMatch::NotMatched { normalised });
    };
    if let Some(skip) = skip_image_references.iter().find(|p| wildcard_match(p, &normalised)) {
        return Ok(ClusterMatch::Skipped { normalised, pattern: skip.clone() });
    }
    Ok(ClusterMatch::Matched { normalised, pattern: matched.clone() })
}

/// How a ClusterPolicy rule saw an image, with the string it compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterMatch {
    Matched { normalised: String, pattern: String },
    Skipped { normalised: String, pattern: String },
    NotMatched { normalised: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum GlobToken {
    Literal(char),
    Any,
    AnyOne,
    Class { negated: bool, ranges: Vec<(char, char)> },
    Alternatives(Vec<Vec<GlobToken>>),
}

/// A gobwas/glob pattern compiled without separators (as ImageValidatingPolicy's
/// `matchImageReferences[].glob`): `*`/`**` any run, `?` one character, `[a-z]`, `[!x]`,
/// `{a,b}`, `\` escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    tokens: Vec<GlobToken>,
}

impl Glob {
    pub fn compile(pattern: &str) -> Result<Glob, String> {
        let chars: Vec<char> = pattern.chars().collect();
        if chars.len() > MAX_MATCH_CHARS {
            return Err(format!("glob longer than {MAX_MATCH_CHARS} characters"));
        }
        let mut pos = 0;
        let tokens = parse_glob(&chars, &mut pos, 0)?;
        if pos != chars.len() {
            return Err(format!("glob {pattern:?}: unexpected {:?} at {pos}", chars[pos]));
        }
        Ok(Glob { tokens })
    }

    /// Whether `text` matches; an error when the pattern is too costly to decide, so a
    /// hostile pattern never quietly reads as "this image is not covered".
    pub fn matches(&self, text: &str) -> Result<bool, String> {
        let t: Vec<char> = text.chars().collect();
        if t.len() > MAX_MATCH_CHARS {
            return Err(format!("image reference longer than {MAX_MATCH_CHARS} characters"));
        }
        let mut budget = GLOB_STEPS;
        match glob_match(&self.tokens, &t, &mut budget) {
            Some(m) => Ok(m),
            None => Err(format!("glob too costly to evaluate against {text:?} ({GLOB_STEPS} steps)")),
        }
    }
}

const GLOB_STEPS: usize = 100_000;

/// Longer than any image reference (registry and repository 255 each, tag 128, digest 71+);
/// it also bounds the matcher's recursion depth.
pub const MAX_MATCH_CHARS: usize = 1024;

fn parse_glob(c: &[char], pos: &mut usize, depth: usize) -> Result<Vec<GlobToken>, String> {
    if depth > 8 {
        return Err("glob: alternatives nested too deep".into());
    }
    let mut out = Vec::new();
    while *pos < c.len() {
        match c[*pos] {
            '*' => {
                while *pos < c.len() && c[*pos] == '*' {
                    *pos += 1;
                }
                out.push(GlobToken::Any);
                continue;
            }
            '?' => out.push(GlobToken::AnyOne),
            '\\' => {
                *pos += 1;
                let ch = *c.get(*pos).ok_or("glob: dangling escape")?;
                out.push(GlobToken::Literal(ch));
            }
            '[' => {
                *pos += 1;
                let negated = c.get(*pos) == Some(&'!');
                if negated {
                    *pos += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let lo = *c.get(*pos).ok_or("glob: unclosed [")?;
                    if lo == ']' {
                        break;
                    }
                    if c.get(*pos + 1) == Some(&'-') && c.get(*pos + 2).is_some_and(|h| *h != ']') {
                        ranges.push((lo, c[*pos + 2]));
                        *pos += 3;
                    } else {
                        ranges.push((lo, lo));
                        *pos += 1;
                    }
                }
                out.push(GlobToken::Class { negated, ranges });
            }
            '{' => {
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    alts.push(parse_glob(c, pos, depth + 1)?);
                    match c.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => break,
                        _ => return Err("glob: unclosed {".into()),
                    }
                }
                out.push(GlobToken::Alternatives(alts));
            }
            ',' | '}' if depth > 0 => return Ok(out),
            ch => out.push(GlobToken::Literal(ch)),
        }
        *pos += 1;
    }
    Ok(out)
}

/// `None` when the step budget ran out (no memoisation: the budget bounds the time instead).
fn glob_match(tokens: &[GlobToken], t: &[char], budget: &mut usize) -> Option<bool> {
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    let Some((first, rest)) = tokens.split_first() else {
        return Some(t.is_empty());
    };
    let one = |ok: bool, budget: &mut usize| if ok { glob_match(rest, &t[1..], budget) } else { Some(false) };
    match first {
        GlobToken::Literal(ch) => one(t.first() == Some(ch), budget),
        GlobToken::AnyOne => one(!t.is_empty(), budget),
        GlobToken::Class { negated, ranges } => {
            one(t.first().is_some_and(|ch| ranges.iter().any(|(lo, hi)| lo <= ch && ch <= hi) != *negated), budget)
        }
        GlobToken::Any => {
            for i in 0..=t.len() {
                if glob_match(rest, &t[i..], budget)? {
                    return Some(true);
                }
            }
            Some(false)
        }
        GlobToken::Alternatives(alts) => {
            for alt in alts {
                let mut joined = alt.clone();
                joined.extend_from_slice(rest);
                if glob_match(&joined, t, budget)? {
                    return Some(true);
                }
            }
            Some(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:b31bfb4d0213f254d361e0079deaaebefa4f82ba7aa76ef82e90b4935ad5b105";

    #[test]
    fn normalisation_follows_kyverno() {
        let digest_ref = format!("ghcr.io/kyverno/test-verify-image:signed@{D}");
        let cases: &[(&str, &str)] = &[
            ("nginx", "docker.io/nginx:latest"),
            ("nginx:1.25", "docker.io/nginx:1.25"),
            ("test/nginx", "docker.io/test/nginx:latest"),
            ("library/nginx", "docker.io/library/nginx:latest"),
            ("docker.io/nginx", "docker.io/nginx:latest"),
            ("localhost/app:v1", "localhost/app:v1"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            ("registry.local/a/b/c:t", "registry.local/a/b/c:t"),
            ("MyRegistry/app:v1", "MyRegistry/app:v1"),
            (
                &digest_ref,
                "ghcr.io/kyverno/test-verify-image@sha256:b31bfb4d0213f254d361e0079deaaebefa4f82ba7aa76ef82e90b4935ad5b105",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_image(input, DEFAULT_REGISTRY).as_deref(), Ok(*want), "{input}");
        }
        assert_eq!(normalise_image("nginx", "mirror.example").unwrap(), "mirror.example/nginx:latest");
        for bad in ["ghcr.io/Kyverno/app", "ghcr.io/app:", "ghcr.io/app@sha256:xyz", "ghcr.io//app"] {
            assert!(normalise_image(bad, DEFAULT_REGISTRY).is_err(), "{bad}");
        }
    }

    #[test]
    fn go_wildcard_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything/at/all:x", true),
            ("", "", true),
            ("", "a", false),
            ("ghcr.io/*", "ghcr.io/kyverno/test-verify-image:signed", true),
            ("ghcr.io/kyverno/test-verify-image*", "ghcr.io/kyverno/test-verify-image:signed", true),
            ("ghcr.io/kyverno*", "ghcr.io/kyverno/zulu:v1", true),
            ("ghcr.io/?yverno/*", "ghcr.io/kyverno/zulu:v1", true),
            ("ghcr.io?kyverno/*", "ghcr.io/kyverno/zulu:v1", true),
            ("ghcr.io/kyverno/zulu:?", "ghcr.io/kyverno/zulu:v1", false),
            ("ghcr.io/kyverno/zulu:??", "ghcr.io/kyverno/zulu:v1", true),
            ("docker.io/library/*", "docker.io/nginx:latest", false),
            ("docker.io/nginx:*", "docker.io/nginx:latest", true),
            ("ghcr.io/x/app:v1*", &format!("ghcr.io/x/app@{D}"), false),
            ("ghcr.io/x/app*", &format!("ghcr.io/x/app@{D}"), true),
            ("*/zulu*", "ghcr.io/kyverno/zulu:v1", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("[a]*", "[a]x", true),
            ("GHCR.io/*", "ghcr.io/x:y", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(wildcard_match(pattern, text), *want, "{pattern} vs {text}");
        }
    }

    #[test]
    fn cluster_policy_match_skip_and_miss() {
        let refs = vec!["ghcr.io/*".to_string()];
        let skips = vec!["ghcr.io/kyverno*".to_string()];
        assert!(matches!(
            cluster_policy_applies(&refs, &skips, "ghcr.io/kyverno/test-verify-image:signed"),
            Ok(ClusterMatch::Skipped { .. })
        ));
        assert!(matches!(
            cluster_policy_applies(&refs, &skips, "ghcr.io/acme/app:1"),
            Ok(ClusterMatch::Matched { .. })
        ));
        assert_eq!(
            cluster_policy_applies(&["docker.io/library/*".into()], &[], "nginx"),
            Ok(ClusterMatch::NotMatched { normalised: "docker.io/nginx:latest".into() })
        );
        assert!(cluster_policy_applies(&refs, &[], "ghcr.io/Bad/app").is_err());
    }

    #[test]
    fn gobwas_glob_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("ghcr.io/*", "ghcr.io/kyverno/test-verify-image:signed", true),
            ("ghcr.io/**", "ghcr.io/a/b:c", true),
            ("*", "nginx", true),
            ("docker.io/*", "nginx", false),
            ("nginx", "nginx", true),
            ("nginx", "docker.io/nginx:latest", false),
            ("ghcr.io/kyverno/zulu:?", "ghcr.io/kyverno/zulu:1", true),
            ("ghcr.io/kyverno/zulu:?", "ghcr.io/kyverno/zulu:10", false),
            ("ghcr.io/{kyverno,acme}/*", "ghcr.io/acme/app", true),
            ("ghcr.io/{kyverno,acme}/*", "ghcr.io/other/app", false),
            ("ghcr.io/app:v[0-9]", "ghcr.io/app:v7", true),
            ("ghcr.io/app:v[!0-9]", "ghcr.io/app:v7", false),
            ("ghcr.io/app:v[!0-9]", "ghcr.io/app:vx", true),
            ("ghcr.io/app\\*", "ghcr.io/app*", true),
            ("ghcr.io/app\\*", "ghcr.io/appx", false),
            ("ghcr.io/*", "ghcr.io", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(Glob::compile(pattern).unwrap().matches(text), Ok(*want), "{pattern} vs {text}");
        }
        for bad in ["ghcr.io/[a", "ghcr.io/{a,b", "x\\"] {
            assert!(Glob::compile(bad).is_err(), "{bad}");
        }
        assert!(Glob::compile(&"a".repeat(MAX_MATCH_CHARS + 1)).is_err());
        assert!(Glob::compile("*").unwrap().matches(&"a".repeat(MAX_MATCH_CHARS + 1)).is_err());
    }

    #[test]
    fn hostile_patterns_end() {
        let pattern = "*a".repeat(40);
        let text = "a".repeat(60) + "b";
        assert!(!wildcard_match(&pattern, &text));
        assert!(Glob::compile(&pattern).unwrap().matches(&text).is_err());
    }
}
