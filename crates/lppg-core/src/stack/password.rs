//! Console passwords: the account's password policy (or AWS's default rules when there is none), checking a
//! password against it, and generating one that satisfies it.
use rand::seq::SliceRandom;
use rand::Rng;

/// The characters IAM accepts as symbols in a password policy.
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";
const UPPER: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijkmnopqrstuvwxyz";
const DIGITS: &str = "23456789";

/// The rules a console password must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRules {
    pub min_length: usize,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    /// AWS's default policy: at least three of the four character classes.
    pub three_of_four_classes: bool,
}

impl PasswordRules {
    /// AWS's rules when the account has no password policy: at least 8 characters, a maximum of 128, and at
    /// least three of upper case, lower case, numbers and symbols.
    pub fn aws_default() -> Self {
        PasswordRules {
            min_length: 8,
            require_symbols: false,
            require_numbers: false,
            require_uppercase: false,
            require_lowercase: false,
            three_of_four_classes: true,
        }
    }

    /// Every way `password` breaks these rules; empty when it is acceptable.
    pub fn violations(&self, password: &str) -> Vec<String> {
        let mut v = Vec::new();
        let len = password.chars().count();
        if len < self.min_length {
            v.push(format!("at least {} characters", self.min_length));
        }
        if len > 128 {
            v.push("at most 128 characters".into());
        }
        let has_upper = password.chars().any(|c| c.is_ascii_uppercase());
        let has_lower = password.chars().any(|c| c.is_ascii_lowercase());
        let has_digit = password.chars().any(|c| c.is_ascii_digit());
        let has_symbol = password.chars().any(|c| SYMBOLS.contains(c));
        if self.require_uppercase && !has_upper {
            v.push("an upper-case letter".into());
        }
        if self.require_lowercase && !has_lower {
            v.push("a lower-case letter".into());
        }
        if self.require_numbers && !has_digit {
            v.push("a number".into());
        }
        if self.require_symbols && !has_symbol {
            v.push(format!("a symbol ({SYMBOLS})"));
        }
        let classes = [has_upper, has_lower, has_digit, has_symbol]
            .iter()
            .filter(|b| **b)
            .count();
        if self.three_of_four_classes && classes < 3 {
            v.push("three of: upper case, lower case, numbers, symbols".into());
        }
        if password
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
        {
            v.push("no spaces or control characters".into());
        }
        v
    }

    /// `Ok` or a message listing what the password lacks.
    pub fn check(&self, password: &str) -> Result<(), String> {
        let v = self.violations(password);
        if v.is_empty() {
            Ok(())
        } else {
            Err(format!("the password needs {}", v.join(", ")))
        }
    }
}

/// Generates a password that meets `rules`: at least 24 characters, every character class present.
pub fn generate(rules: &PasswordRules, rng: &mut impl Rng) -> String {
    let len = rules.min_length.clamp(24, 128);
    let classes: [&str; 4] = [UPPER, LOWER, DIGITS, SYMBOLS];
    let all: Vec<char> = classes.iter().flat_map(|c| c.chars()).collect();
    let mut chars: Vec<char> = classes
        .iter()
        .map(|c| {
            let v: Vec<char> = c.chars().collect();
            v[rng.gen_range(0..v.len())]
        })
        .collect();
    while chars.len() < len {
        chars.push(all[rng.gen_range(0..all.len())]);
    }
    chars.shuffle(rng);
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn strict() -> PasswordRules {
        PasswordRules {
            min_length: 40,
            require_symbols: true,
            require_numbers: true,
            require_uppercase: true,
            require_lowercase: true,
            three_of_four_classes: false,
        }
    }

    #[test]
    fn default_rules() {
        let r = PasswordRules::aws_default();
        assert!(r.check("abcDEF12").is_ok());
        assert!(r.check("abcdef12").is_err(), "two classes only");
        assert!(r.check("aB1!").is_err(), "too short");
        assert!(r.check(&format!("aB1!{}", "x".repeat(125))).is_err());
        assert!(r.check("abc DEF12").is_err());
    }

    #[test]
    fn strict_rules_name_what_is_missing() {
        let msg = strict().check("short").unwrap_err();
        assert!(msg.contains("at least 40 characters"), "{msg}");
        assert!(msg.contains("a number"), "{msg}");
        assert!(msg.contains("a symbol"), "{msg}");
        assert!(msg.contains("an upper-case letter"), "{msg}");
    }

    #[test]
    fn generated_passwords_meet_the_rules() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for rules in [PasswordRules::aws_default(), strict()] {
            for _ in 0..200 {
                let p = generate(&rules, &mut rng);
                assert!(rules.check(&p).is_ok(), "{p}");
                assert!(p.len() >= 24);
            }
        }
        let a = generate(&strict(), &mut rng);
        let b = generate(&strict(), &mut rng);
        assert_ne!(a, b);
    }
}
