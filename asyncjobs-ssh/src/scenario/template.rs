//! Jinja-templated scenario files (`.yaml.j2`, `.toml.j2`), as apssh's
//! `YamlLoader` reads them: the file is rendered with
//! [minijinja](https://docs.rs/minijinja) and the variables given (on the
//! command line: `ajssh scenario run -D name=value`), then read as the
//! format its name says without the `.j2`. An undefined variable is an
//! error naming its line (apssh would render it empty); rendering is
//! bounded by [`Limits::template_fuel`] and [`Limits::max_file_bytes`].

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};

use super::error::{ErrorKind, ScenarioError};
use super::limits::Limits;

/// Renders `text` (the content of `file`) with `vars`.
pub(crate) fn render(
    text: &str,
    file: &Path,
    vars: &BTreeMap<String, String>,
    limits: &Limits,
) -> Result<String, ScenarioError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(limits.template_fuel));
    // scenario files are not HTML
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let ctx = Value::from(
        vars.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect::<BTreeMap<String, Value>>(),
    );
    let out = env.render_str(text, ctx).map_err(|e| {
        let line = e.line().unwrap_or(0);
        let message = match e.detail() {
            Some(d) => format!("template: {}: {d}", e.kind()),
            None => format!("template: {}", e.kind()),
        };
        ScenarioError::new(ErrorKind::Template, file, line, None, message)
    })?;
    limits.check_text(&out, file)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn templates_render_loops_and_variables() {
        let text = "jobs:\n{% for i in range(1, n|int + 1) %}  - id: load{{ i }}\n    label: load fit0{{ i }} on {{ gw }}\n{% endfor %}";
        let out = render(
            text,
            Path::new("s.yaml.j2"),
            &vars(&[("n", "2"), ("gw", "faraday")]),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            out,
            "jobs:\n  - id: load1\n    label: load fit01 on faraday\n  - id: load2\n    label: load fit02 on faraday\n"
        );
    }

    #[test]
    fn undefined_variables_and_endless_templates_are_errors() {
        let e = render(
            "a: 1\nb: {{ missing }}\n",
            Path::new("s.yaml.j2"),
            &vars(&[]),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Template);
        assert!(e.to_string().starts_with("s.yaml.j2:2: template: "), "{e}");
        let limits = Limits {
            template_fuel: 10_000,
            ..Limits::default()
        };
        let e = render(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            Path::new("s.yaml.j2"),
            &vars(&[]),
            &limits,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Template, "{e}");
    }
}
