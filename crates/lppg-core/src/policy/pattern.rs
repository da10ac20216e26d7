//! IAM action wildcards: `*` (any run of characters) and `?` (one character),
//! matched case-insensitively over the whole `prefix:Name` text.

/// True when `pattern` (like `s3:Get*`, `*`, `ec2:Describe?nstances`) matches `action`,
/// ignoring case as IAM does.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let action: Vec<char> = action.to_lowercase().chars().collect();
    glob(&pattern, &action)
}

/// True when the pattern holds a wildcard character.
pub(crate) fn is_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Iterative glob matching with single-star backtracking: linear in practice.
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_matches_ignore_case() {
        assert!(action_matches("s3:GetObject", "s3:GetObject"));
        assert!(action_matches("S3:getobject", "s3:GetObject"));
        assert!(!action_matches("s3:GetObject", "s3:GetObjectAcl"));
        assert!(!action_matches("s3:GetObjectAcl", "s3:GetObject"));
    }

    #[test]
    fn star_and_question_mark() {
        assert!(action_matches("*", "s3:GetObject"));
        assert!(action_matches("s3:*", "s3:GetObject"));
        assert!(action_matches("s3:Get*", "s3:GetObject"));
        assert!(action_matches("s3:get*", "s3:GetObject"));
        assert!(action_matches("s3:Get*", "s3:Get"));
        assert!(!action_matches("s3:Get*", "s3:PutObject"));
        assert!(!action_matches("s3:*", "s3express:CreateSession"));
        assert!(action_matches("s3*:*", "s3express:CreateSession"));
        assert!(action_matches("*:Describe*", "ec2:DescribeInstances"));
        assert!(action_matches("ec2:Describe*s", "ec2:DescribeInstances"));
        assert!(!action_matches("ec2:Describe*s", "ec2:DescribeInstance"));
        assert!(action_matches("ec2:*Instance*", "ec2:RunInstances"));
        assert!(action_matches("s3:?etObject", "s3:GetObject"));
        assert!(!action_matches("s3:?GetObject", "s3:GetObject"));
        assert!(action_matches("**", ""));
        assert!(!action_matches("", "a"));
    }

    #[test]
    fn detects_wildcards() {
        assert!(is_wildcard("*"));
        assert!(is_wildcard("s3:Get?"));
        assert!(!is_wildcard("s3:GetObject"));
    }
}
