//! The `onramp` command: serve, migrate, load the demo, manage users, verify the audit trail.

mod config;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use config::{AuditKeySource, Resolved, Settings};
use onramp_app::{App, AppConfig};
use onramp_domain::audit::AuditKey;
use onramp_domain::clock::SystemClock;
use onramp_domain::ImplementationRole;
use onramp_jobs::{Mailer, OutboxWorker, WebhookSender, WorkerConfig};
use onramp_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

/// Onramp takes a person from "my agency needs me in HMIS" to trained, signed, certified
/// and holding live HMIS credentials.
///
/// It runs on an embedded SQLite database in the data directory unless DATABASE_URL names
/// a PostgreSQL database. Every setting can also come from the environment (ONRAMP_*) or a
/// TOML file (--config).
#[derive(Parser)]
#[command(name = "onramp", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and the email worker.
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Create the demo implementation (if missing), print how to sign in, and serve it.
    Demo {
        /// Create the demo data and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Manage people from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

// The variants are the subcommands' names (`create-user`, `create-api-token`, …).
#[allow(clippy::enum_variant_names)]
#[derive(Subcommand)]
enum AdminCommand {
    /// Create an implementation (an HMIS Lead's tenant) with its CoC codes.
    CreateImplementation {
        /// Short name used in URLs, e.g. lakeside.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// The HMIS Lead organisation's name.
        #[arg(long)]
        lead: String,
        /// CoC codes, comma-separated, e.g. IL-510,IL-511.
        #[arg(long)]
        cocs: String,
    },
    /// Create a person who can sign in, with an issued password they must change.
    CreateUser {
        /// The implementation's slug.
        #[arg(long)]
        implementation: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
        /// Implementation roles: lead_admin, training_coordinator, proctor, auditor (comma-separated).
        #[arg(long, default_value = "")]
        roles: String,
        /// The issued password; read from ONRAMP_NEW_PASSWORD when not given.
        #[arg(long, env = "ONRAMP_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Create an API token for a person and print it (once: only its hash is kept). The
    /// token acts with the person's roles; it is listed, and can be revoked, on their
    /// account page.
    CreateApiToken {
        /// The implementation's slug.
        #[arg(long)]
        implementation: String,
        /// The email of the person the token acts for.
        #[arg(long)]
        email: String,
        /// A name for the token, shown on the account page.
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the keyed hash chain and name every edited, deleted or out-of-place event.
    Verify,
    /// Print the chain head (last sequence number and its hash), to publish for outside comparison.
    Head,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let resolved = match cli.settings.resolve() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onramp: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(resolved.log_json);
    match run(cli.command, resolved).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("onramp: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ONRAMP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_store(r: &Resolved) -> Result<Store> {
    let store = match &r.database_url {
        Some(url) => Store::open_postgres(url, 16)
            .await
            .context("cannot connect to the PostgreSQL database in DATABASE_URL")?,
        None => {
            std::fs::create_dir_all(&r.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {} (setting: --data-dir / ONRAMP_DATA_DIR)",
                    r.data_dir.display()
                )
            })?;
            let path = r.data_dir.join("onramp.db");
            Store::open_sqlite(&path)
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?
        }
    };
    store.migrate().await.context("database migration failed")?;
    Ok(store)
}

/// The audit chain's key: from a setting, or the data directory's `audit.key`, which is
/// created (mode 0600) only while the chain is empty, so that a lost key is never
/// replaced silently by a new one.
async fn audit_key(r: &Resolved, store: &Store) -> Result<AuditKey> {
    let path = match &r.audit_key {
        AuditKeySource::Given(k) => return Ok(k.clone()),
        AuditKeySource::DataDir(path) => path,
    };
    if path.exists() {
        warn_if_readable_by_others(path);
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the audit key {}", path.display()))?;
        return AuditKey::parse(&text)
            .map_err(|m| anyhow::anyhow!("the audit key {}: {m}", path.display()));
    }
    let events = store.read().await?.audit_head_seq().await?;
    if events > 0 {
        bail!(
            "the audit key {} is missing, but the audit trail already has {events} events written under a key. \
             Restore the key from your backup (or name it with --audit-key-file / ONRAMP_AUDIT_KEY_FILE); \
             Onramp does not start a new key silently (see docs/operations.md). A development data directory \
             from before audit keys has no key to restore: delete it and start again",
            path.display()
        );
    }
    let key = AuditKey::from_random_bytes(rand::random());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    }
    write_new_secret(path, &format!("{}\n", key.text()))
        .with_context(|| format!("cannot create the audit key {}", path.display()))?;
    tracing::info!(path = %path.display(), fingerprint = %key.fingerprint(), "created the audit key: back it up (docs/operations.md)");
    Ok(key)
}

#[cfg(unix)]
fn write_new_secret(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_new_secret(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the audit key can be read by other users: chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &std::path::Path) {}

async fn run(command: Command, r: Resolved) -> Result<std::process::ExitCode> {
    let store = open_store(&r).await?;
    let config = AppConfig {
        audit_key: audit_key(&r, &store).await?,
        ..r.app.clone()
    };
    // Files live in the data directory with SQLite, and in the database with PostgreSQL, so
    // that every app node sharing it serves every file.
    let files = match r.database_url {
        Some(_) => onramp_store::files::FileStore::Database,
        None => onramp_store::files::FileStore::DataDir(r.data_dir.join("files")),
    };
    let app = App::new(store.clone(), Arc::new(SystemClock), config).with_files(files);
    // Writing the chain under another key than before would break it for good.
    if !matches!(command, Command::Audit { .. })
        && !onramp_app::audit::key_matches_chain(&app).await?
    {
        bail!(
            "the audit key (fingerprint {}) is not the key the audit trail was written with: \
             restore the right audit.key, or run `onramp audit verify` to see what is wrong (see docs/operations.md)",
            app.config.audit_key.fingerprint()
        );
    }
    match command {
        Command::Migrate => {
            println!("The database schema is up to date.");
        }
        Command::Serve => serve(app, &r).await?,
        Command::Demo { no_serve } => {
            let (_, created) = onramp_app::demo::load(&app).await?;
            if created {
                onramp_app::demo::load_training_stages(&app).await?;
            }
            print_demo(&r, created);
            if !no_serve {
                serve(app, &r).await?;
            }
        }
        Command::Admin { command } => admin(&app, command).await?,
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let report = onramp_app::audit::verify(&app).await?;
            if report.problems.is_empty() {
                println!("Audit trail intact: {} events verified.", report.checked);
            } else {
                println!(
                    "Audit trail BROKEN: {} problem(s) in {} events.",
                    report.problems.len(),
                    report.checked
                );
                for p in &report.problems {
                    println!("  - {p}");
                }
                if report.checked > 1 && report.problems.len() as u64 >= report.checked {
                    println!(
                        "Every event fails: is this the audit key the trail was written with (fingerprint {})?",
                        app.config.audit_key.fingerprint()
                    );
                }
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Audit {
            command: AuditCommand::Head,
        } => {
            let head = onramp_app::audit::chain_head(&app).await?;
            println!("seq {} hash {}", head.seq, head.hash);
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn print_demo(r: &Resolved, created: bool) {
    println!();
    println!(
        "  Onramp demo {} — {}",
        if created { "created" } else { "already loaded" },
        r.base_url
    );
    println!();
    println!(
        "  Sign in at {}/signin with any of these (password: {}):",
        r.base_url,
        onramp_app::demo::DEMO_PASSWORD
    );
    for l in onramp_app::demo::DEMO_LOGINS {
        println!("    {:<40} {}", l.role, l.email);
    }
    println!();
    println!("  Everyone but trainees sets up two-step sign-in at first sign-in (any authenticator app).");
    println!("  Training plans: Sam Ortiz (trainee@harbor) has just been accepted, Ada Moss (trainee@northside)");
    println!("  is half-way through her introduction, Rosa Diaz (rosa.diaz@harbor.example.org) has finished hers.");
    println!(
        "  Email is written to {} (see also Outbox in the admin menu).",
        r.data_dir.join("maildir").display()
    );
    println!();
}

async fn serve(app: App, r: &Resolved) -> Result<()> {
    let mailer = Mailer::from_config(r.smtp.as_ref(), &r.data_dir.join("maildir"), &r.mail_from)
        .context("cannot set up email delivery")?;
    tracing::info!(mail = %mailer.describe(), "email delivery");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let webhooks = WebhookSender::new(onramp_jobs::webhook::DEFAULT_TIMEOUT)
        .and_then(|s| s.allowing(app.config.webhook_allow_hosts.clone()))
        .context("cannot set up webhook delivery")?;
    let worker = OutboxWorker::new(
        app.store.clone(),
        app.clock.clone(),
        mailer,
        WorkerConfig::default(),
    )
    .with_webhooks(webhooks);
    let worker_task = tokio::spawn(worker.run(stop_rx));
    let sweeper = tokio::spawn(sweep_sessions(app.clone(), stop_tx.subscribe()));
    let state = onramp_web::AppState::new(app.clone(), r.secure_cookies);
    let metrics_task = match &r.metrics_listen {
        Some(m) => Some(serve_metrics(state.clone(), m, stop_tx.subscribe()).await?),
        None => None,
    };
    let router = onramp_web::router(state);
    let addr: SocketAddr = r.listen.parse().context("--listen")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (setting: --listen / ONRAMP_LISTEN)"))?;
    tracing::info!(%addr, base_url = %r.base_url, backend = ?app.store.backend(), "Onramp is serving");
    println!(
        "Onramp is serving at {} (listening on {addr}). Press Ctrl-C to stop.",
        r.base_url
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("server error")?;
    let _ = stop_tx.send(true);
    let _ = worker_task.await;
    let _ = sweeper.await;
    if let Some(t) = metrics_task {
        let _ = t.await;
    }
    app.store.close().await;
    Ok(())
}

/// Serves `/metrics` alone on its own address until `stop` turns true.
async fn serve_metrics(
    state: onramp_web::AppState,
    listen: &str,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>> {
    let addr: SocketAddr = listen.parse().context("--metrics-listen")?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (setting: --metrics-listen / ONRAMP_METRICS_LISTEN)")
    })?;
    tracing::info!(%addr, "serving /metrics");
    let router = onramp_web::ops::metrics_router(state);
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    }))
}

/// Every minute: removes ended sessions and old sign-in attempts, and runs the access
/// requests' deadlines, SLAs and reminders.
async fn sweep_sessions(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = app.now();
        let idle_before = now - chrono::Duration::minutes(app.config.session_idle_minutes);
        let result = async {
            let mut tx = app.store.begin().await?;
            tx.sessions_prune(idle_before, now).await?;
            tx.sign_in_attempts_prune(now - chrono::Duration::days(1))
                .await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "session sweep failed");
        }
        // Deadlines, SLAs and reminders of access requests.
        match onramp_app::access::sweep(&app).await {
            Ok(r) if r != Default::default() => tracing::info!(?r, "access request sweep"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "access request sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn admin(app: &App, command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::CreateImplementation {
            slug,
            name,
            lead,
            cocs,
        } => {
            let cocs = onramp_app::organisation::parse_cocs(&cocs)
                .map_err(|m| anyhow::anyhow!("--cocs: {m}"))?;
            let mut tx = app.store.begin().await?;
            let id = onramp_app::organisation::create_implementation(
                &mut tx, app, &slug, &name, &lead, &cocs,
            )
            .await
            .map_err(app_error)?;
            tx.commit().await?;
            println!("Created implementation {slug} (id {id}).");
        }
        AdminCommand::CreateUser {
            implementation,
            email,
            given_name,
            family_name,
            roles,
            password,
        } => {
            let imp = {
                let mut tx = app.store.read().await?;
                tx.implementation_by_slug(&implementation).await?
            };
            let Some(imp) = imp else {
                bail!(
                    "--implementation: there is no implementation with the slug {implementation:?}"
                );
            };
            let mut parsed = Vec::new();
            for r in roles.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                parsed.push(
                    ImplementationRole::parse(r).map_err(|m| anyhow::anyhow!("--roles: {m}"))?,
                );
            }
            let id = onramp_app::people::create_with_password(
                app,
                imp.id,
                &given_name,
                &family_name,
                &email,
                None,
                &parsed,
                &password,
                true,
            )
            .await
            .map_err(app_error)?;
            println!("Created {email} (person id {id}). They must change the issued password at first sign-in.");
        }
        AdminCommand::CreateApiToken {
            implementation,
            email,
            name,
        } => {
            let token = create_api_token(app, &implementation, &email, &name).await?;
            println!("{token}");
        }
    }
    Ok(())
}

/// Creates an API token for the person with this email, acting as them (the audit trail
/// records them as its creator, from the command line).
async fn create_api_token(
    app: &App,
    implementation: &str,
    email: &str,
    name: &str,
) -> Result<String> {
    let mut tx = app.store.read().await?;
    let Some(imp) = tx.implementation_by_slug(implementation).await? else {
        bail!("--implementation: there is no implementation with the slug {implementation:?}");
    };
    let email_norm =
        onramp_domain::Email::parse(email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
    let Some(person) = tx.person_by_email(imp.id, email_norm.as_str()).await? else {
        bail!("--email: nobody in {implementation} has the email {email}");
    };
    if !person.active {
        bail!("--email: {email} is deactivated");
    }
    let actor = onramp_app::auth::load_actor(&mut tx, person.id)
        .await
        .map_err(app_error)?;
    drop(tx);
    let ctx = onramp_app::Ctx::new(actor, "command line");
    let (_, token) = onramp_app::auth::api_token_create(app, &ctx, name)
        .await
        .map_err(app_error)?;
    Ok(token)
}

fn app_error(e: onramp_app::AppError) -> anyhow::Error {
    match e {
        onramp_app::AppError::Invalid(v) => anyhow::anyhow!(v
            .into_iter()
            .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
            .collect::<Vec<_>>()
            .join("; ")),
        other => anyhow::anyhow!(other.to_string()),
    }
}
