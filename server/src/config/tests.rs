//! The configuration's resolution, checks and printing.

use super::*;

fn resolve_with(global: GlobalArgs, serve: ServeArgs, file: &str) -> Result<Config, String> {
    let file = parse_file(file)?;
    resolve(&global, &serve, file, None).map_err(|e| e.to_string())
}

#[test]
fn defaults_are_the_embedded_ones() {
    let config = resolve_with(GlobalArgs::default(), ServeArgs::default(), "").unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(config.data_dir, PathBuf::from("data"));
    assert_eq!(config.database.display(), "sqlite://data/switchyard.db");
    assert_eq!(config.sqlite_sync, SqliteSync::Normal);
    assert_eq!(config.log_format, LogFormat::Human);
    assert_eq!(config.site_dir, PathBuf::from("target/site"));
}

#[test]
fn flags_beat_the_file_and_the_file_beats_defaults() {
    let file = "listen = \"127.0.0.1:4000\"\ndata_dir = \"/srv/sy\"\nlog_format = \"json\"\n";
    let from_file = resolve_with(GlobalArgs::default(), ServeArgs::default(), file).unwrap();
    assert_eq!(from_file.listen.to_string(), "127.0.0.1:4000");
    assert_eq!(from_file.data_dir, PathBuf::from("/srv/sy"));
    assert_eq!(
        from_file.database.display(),
        "sqlite:///srv/sy/switchyard.db"
    );
    assert_eq!(from_file.log_format, LogFormat::Json);

    let global = GlobalArgs {
        data_dir: Some("/flag".into()),
        ..GlobalArgs::default()
    };
    let serve = ServeArgs {
        listen: Some("0.0.0.0:5000".into()),
        ..ServeArgs::default()
    };
    let from_flags = resolve_with(global, serve, file).unwrap();
    assert_eq!(from_flags.listen.to_string(), "0.0.0.0:5000");
    assert_eq!(from_flags.data_dir, PathBuf::from("/flag"));
    assert_eq!(
        from_flags.log_format,
        LogFormat::Json,
        "unset flags fall through"
    );
}

#[test]
fn bad_values_name_the_setting() {
    let cases = [
        ("listen = \"localhost\"", "invalid listen 'localhost'"),
        (
            "sqlite_synchronous = \"sometimes\"",
            "invalid sqlite_synchronous 'sometimes'",
        ),
        (
            "log_format = \"xml\"",
            "invalid log_format 'xml': expected human or json",
        ),
        ("log_level = \"info,=[\"", "invalid log_level"),
        (
            "database_url = \"mysql://x\"",
            "invalid database URL 'mysql://x'",
        ),
        ("data_dir = \"\"", "invalid data_dir '': must not be empty"),
        ("server_url = \"ftp://x\"", "invalid server_url 'ftp://x'"),
    ];
    for (file, needle) in cases {
        let err = resolve_with(GlobalArgs::default(), ServeArgs::default(), file).unwrap_err();
        assert!(err.contains(needle), "{file}: {err}");
        assert!(!err.contains('\n'), "{file}: {err}");
    }
}

#[test]
fn unknown_file_keys_are_refused_with_their_line() {
    let err = parse_file("listen = \"127.0.0.1:1\"\nlissten = \"x\"\n").unwrap_err();
    assert!(err.starts_with("line 2: unknown field `lissten`"), "{err}");
    assert!(err.contains("expected one of"), "{err}");
    assert!(!err.contains('\n'));
    let err = parse_file("listen = ").unwrap_err();
    assert!(err.starts_with("line 1:"), "{err}");
}

#[test]
fn unknown_switchyard_env_vars_are_refused() {
    let ok = [
        "PATH",
        "SWITCHYARD_LISTEN",
        "SWITCHYARD_DATA_DIR",
        "SWITCHYARD_BIN",
    ];
    check_env(ok.iter().map(|s| s.to_string())).unwrap();
    let err = check_env(["SWITCHYARD_LISTN".to_string()].into_iter())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("unknown environment variable SWITCHYARD_LISTN"),
        "{err}"
    );
}

#[test]
fn printed_config_loads_back_to_the_same_settings() {
    let global = GlobalArgs {
        database_url: Some("postgres://u:pw@db.example:5433/sy".into()),
        sqlite_synchronous: Some("FULL".into()),
        ..GlobalArgs::default()
    };
    let config = resolve(&global, &ServeArgs::default(), FileConfig::default(), None).unwrap();
    let text = config.to_toml();
    assert!(
        text.contains("postgres://u:***@db.example:5433/sy"),
        "{text}"
    );
    assert!(!text.contains("pw"), "{text}");
    let again = resolve_with(
        GlobalArgs::default(),
        ServeArgs::default(),
        &text.replace(":***@", "@"),
    )
    .unwrap();
    assert_eq!(again.sqlite_sync, SqliteSync::Full);
    assert_eq!(again.listen, config.listen);
}

#[test]
fn a_model_dtype_is_parsed_and_a_bad_one_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    let entry = |extra: &str| {
        format!(
            "models = [{{ path = {}{extra} }}]\n",
            toml::Value::String(model.display().to_string())
        )
    };
    let config = resolve_with(
        GlobalArgs::default(),
        ServeArgs::default(),
        &entry(", dtype = \"bf16\""),
    )
    .unwrap();
    assert_eq!(config.inference.models[0].id, "m");
    assert_eq!(
        config.inference.models[0].dtype,
        switchyard_inference::ComputeDType::Bf16
    );
    let config = resolve_with(GlobalArgs::default(), ServeArgs::default(), &entry("")).unwrap();
    assert_eq!(
        config.inference.models[0].dtype,
        switchyard_inference::ComputeDType::Auto
    );

    let error = resolve_with(
        GlobalArgs::default(),
        ServeArgs::default(),
        &entry(", dtype = \"int4\""),
    )
    .unwrap_err();
    assert_eq!(
        error,
        "invalid models.dtype 'int4': expected auto, f32, bf16 or f16"
    );
}

#[test]
fn printed_secrets_read_as_stars_and_debug_hides_them() {
    let global = GlobalArgs {
        jwt_secret: Some("s".repeat(40)),
        archive_key: Some("ab".repeat(32)),
        admin_email: Some("root@example.com".into()),
        admin_password: Some("hunter2-hunter2".into()),
        token: Some("sy_abc_def".into()),
        database_url: Some("postgres://u:pg-password@db.example/sy".into()),
        ..GlobalArgs::default()
    };
    let config = resolve(&global, &ServeArgs::default(), FileConfig::default(), None).unwrap();
    let text = config.to_toml();
    assert!(text.contains("jwt_secret = \"***\""), "{text}");
    assert!(text.contains("archive_key = \"***\""), "{text}");
    for secret in ["ssssssss", "abababab", "hunter2", "sy_abc", "pg-password"] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
        let debug = format!("{config:?}");
        assert!(!debug.contains(secret), "{secret} in Debug:\n{debug}");
    }
}
