//! The embedded default: a private Postgres cluster under the data
//! directory, so `ratiba serve` works on a fresh machine without any setup.
//!
//! The cluster lives in `<data_dir>/postgres`, listens only on a unix socket
//! (no TCP port to collide with or expose) in that directory, trusts local
//! connections, and holds one database, `ratiba`. `initdb` and `pg_ctl` come
//! from `RATIBA_PG_BIN_DIR`, the PATH or `/usr/lib/postgresql/<version>/bin`
//! (newest first).
//!
//! Postgres refuses to run as root. When we are root, every Postgres command
//! runs as the `postgres` system user and the cluster directory is owned by
//! it. If that user cannot reach the data directory (a checkout under a
//! private home such as /root), the cluster lives instead in
//! `/var/tmp/ratiba-<hash of the data directory>/postgres`, found again on
//! every start from the same data directory.
//!
//! `pg_ctl` starts the server in its own session, so a Ctrl-C in the
//! terminal reaches only us; we then stop the cluster with `pg_ctl stop`.
//! All operations here block (they run child processes): call them from
//! `spawn_blocking` in async code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use thiserror::Error;

/// The database the engine uses inside the embedded cluster.
pub const DATABASE_NAME: &str = "ratiba";
/// The socket's port number (part of the socket file name; no TCP).
pub const SOCKET_PORT: u16 = 5432;

const INSTALL_HINT: &str = "install the PostgreSQL server binaries (Debian/Ubuntu: \
     `apt-get install -y postgresql`), point RATIBA_PG_BIN_DIR at the directory holding \
     initdb and pg_ctl, or set DATABASE_URL to use an existing server";

/// Why the embedded cluster could not be set up. All of these are the
/// environment's to fix, and each message says how.
#[derive(Debug, Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin: {INSTALL_HINT}"
    )]
    BinariesMissing,
    #[error(
        "running as root, but there is no `postgres` system user to run the cluster as (Postgres refuses to run as root): {INSTALL_HINT}, or run as an unprivileged user"
    )]
    NoPostgresUser,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The user Postgres commands run as when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// One embedded cluster, identified by its directory.
#[derive(Debug, Clone)]
pub struct EmbeddedPostgres {
    pgdata: PathBuf,
    socket_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<RunAs>,
    durable: bool,
}

impl EmbeddedPostgres {
    /// The cluster under `data_dir` (not started). Finds the binaries.
    pub fn new(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::BinariesMissing)?;
        let run_as = if is_root() {
            Some(postgres_user().ok_or(EmbeddedError::NoPostgresUser)?)
        } else {
            None
        };
        std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(|source| EmbeddedError::Io {
                path: data_dir.to_owned(),
                source,
            })?;
        let pgdata = match run_as {
            Some(user) if !reachable_by(user, &data_dir) => relocated_pgdata(&data_dir),
            _ => data_dir.join("postgres"),
        };
        Ok(Self {
            socket_dir: socket_dir_for(&pgdata),
            pgdata,
            bin_dir,
            run_as,
            durable: true,
        })
    }

    /// Trades crash safety for speed (fsync off): for throwaway test
    /// clusters only.
    pub fn non_durable(mut self) -> Self {
        self.durable = false;
        self
    }

    /// The cluster directory.
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// The URL of the engine's database (works for sqlx and psql).
    pub fn url(&self) -> String {
        self.url_for(DATABASE_NAME)
    }

    /// The URL of another database in this cluster.
    pub fn url_for(&self, database: &str) -> String {
        let mut url = url::Url::parse("postgres://postgres@localhost").expect("static URL");
        url.set_port(Some(SOCKET_PORT)).expect("static URL");
        url.set_path(database);
        url.query_pairs_mut()
            .append_pair("host", &self.socket_dir.to_string_lossy());
        url.to_string()
    }

    pub fn is_initialized(&self) -> bool {
        self.pgdata.join("PG_VERSION").exists()
    }

    /// Whether the cluster's server is up (`pg_ctl status`).
    pub fn is_running(&self) -> bool {
        if !self.is_initialized() {
            return false;
        }
        self.pg_command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.pgdata)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Initialises the cluster if needed and starts it if it is not
    /// running. Returns whether this call started it. Creating the
    /// `ratiba` database is [`EmbeddedPostgres::ensure_database`]'s job.
    pub fn start(&self) -> Result<bool, EmbeddedError> {
        self.init()?;
        if self.is_running() {
            return Ok(false);
        }
        self.write_settings()?;
        let log = self.pgdata.join("server.log");
        let out = self
            .pg_command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-s"])
            .output()
            .map_err(|e| self.spawn_error("pg_ctl start", e))?;
        if !out.status.success() {
            // Another process may have started it in the meantime.
            if self.is_running() {
                return Ok(false);
            }
            let tail = std::fs::read_to_string(&log)
                .map(|t| {
                    let lines: Vec<&str> = t.lines().collect();
                    lines[lines.len().saturating_sub(8)..].join("\n")
                })
                .unwrap_or_default();
            return Err(EmbeddedError::Command {
                what: "pg_ctl start".into(),
                detail: format!("{}\n{tail}", describe(&out)),
            });
        }
        Ok(true)
    }

    /// Stops the server (fast shutdown: open sessions are ended, committed
    /// data is kept). A no-op if it is not running.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        if !self.is_running() {
            return Ok(());
        }
        let before = self.postmaster_pid();
        let out = self
            .pg_command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "60", "-s"])
            .output()
            .map_err(|e| self.spawn_error("pg_ctl stop", e))?;
        // pg_ctl waits for the pid file to go; a supervisor that started
        // the cluster again at once leaves a new one, and pg_ctl reports a
        // server that "does not shut down" although the one asked did.
        let restarted = self.postmaster_pid().is_some_and(|now| Some(now) != before);
        if !out.status.success() && self.is_running() && !restarted {
            return Err(EmbeddedError::Command {
                what: "pg_ctl stop".into(),
                detail: describe(&out),
            });
        }
        // The postmaster removes its pid file on the way out, a moment
        // before the process ends: wait for the process too, so a caller
        // that goes on to check or reuse the port sees it gone.
        if let Some(pid) = before {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while process_alive(pid) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        Ok(())
    }

    /// Creates the `ratiba` database if it does not exist yet.
    pub async fn ensure_database(&self) -> Result<(), sqlx::Error> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url_for("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE_NAME)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {DATABASE_NAME}"
            )))
            .execute(&mut conn)
            .await?;
        }
        conn.close().await
    }

    /// The pid of the running postmaster, from `postmaster.pid`.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    fn init(&self) -> Result<(), EmbeddedError> {
        if self.is_initialized() {
            return Ok(());
        }
        if let Some(parent) = self.pgdata.parent() {
            std::fs::create_dir_all(parent).map_err(|source| EmbeddedError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        self.make_private_dir(&self.pgdata)?;
        if self.socket_dir != self.pgdata {
            self.make_private_dir(&self.socket_dir)?;
        }
        let out = self
            .pg_command("initdb")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
            .arg("--no-instructions")
            .output()
            .map_err(|e| self.spawn_error("initdb", e))?;
        if !out.status.success() {
            let mut detail = describe(&out);
            if self.run_as.is_some() {
                detail.push_str(&format!(
                    "\n(we are root, so initdb runs as the `postgres` user: it must be able to \
                     reach {}; choose a --data-dir it can reach, e.g. under /var/tmp)",
                    self.pgdata.display()
                ));
            }
            return Err(EmbeddedError::Command {
                what: "initdb".into(),
                detail,
            });
        }
        let conf = self.pgdata.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|source| EmbeddedError::Io {
            path: conf.clone(),
            source,
        })?;
        text.push_str("\n# Written on each start by ratiba (socket, durability).\ninclude_if_exists = 'ratiba.conf'\n");
        std::fs::write(&conf, text).map_err(|source| EmbeddedError::Io { path: conf, source })
    }

    /// The settings that depend on where the cluster is and how it is used;
    /// rewritten on each start so a moved data directory still works.
    fn write_settings(&self) -> Result<(), EmbeddedError> {
        if self.socket_dir != self.pgdata {
            self.make_private_dir(&self.socket_dir)?;
        }
        let socket = self.socket_dir.to_string_lossy().replace('\'', "''");
        let mut text = format!(
            "listen_addresses = ''\nunix_socket_directories = '{socket}'\nport = {SOCKET_PORT}\n\
             max_connections = 100\n"
        );
        if !self.durable {
            text.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.pgdata.join("ratiba.conf");
        std::fs::write(&path, text).map_err(|source| EmbeddedError::Io {
            path: path.clone(),
            source,
        })?;
        self.chown(&path)
    }

    fn make_private_dir(&self, dir: &Path) -> Result<(), EmbeddedError> {
        use std::os::unix::fs::PermissionsExt;
        let io = |source| EmbeddedError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        self.chown(dir)
    }

    fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        if let Some(user) = self.run_as {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(|source| {
                EmbeddedError::Io {
                    path: path.to_owned(),
                    source,
                }
            })?;
        }
        Ok(())
    }

    fn pg_command(&self, program: &str) -> Command {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.current_dir(self.pgdata.parent().unwrap_or(Path::new("/")))
            .env_remove("PGDATA")
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .env("LC_ALL", "C");
        if let Some(user) = self.run_as {
            cmd.uid(user.uid).gid(user.gid).current_dir("/");
        }
        cmd
    }

    fn spawn_error(&self, what: &str, e: std::io::Error) -> EmbeddedError {
        EmbeddedError::Command {
            what: what.into(),
            detail: format!("could not run {}: {e}", self.bin_dir.display()),
        }
    }
}

fn describe(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    format!("{} {}{}", out.status, stderr.trim(), stdout.trim())
}

/// The socket lives in the cluster directory unless that path is too long
/// for a unix socket address (108 bytes with `/.s.PGSQL.5432`); then in a
/// private directory under /tmp named after the cluster path.
fn socket_dir_for(pgdata: &Path) -> PathBuf {
    const SOCKET_PATH_MAX: usize = 100;
    let socket_name_len = "/.s.PGSQL.5432".len();
    if pgdata.as_os_str().len() + socket_name_len <= SOCKET_PATH_MAX {
        return pgdata.to_owned();
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    pgdata.hash(&mut h);
    PathBuf::from(format!("/tmp/ratiba-pg-{:016x}", h.finish()))
}

/// Whether `user` can traverse every directory down to `dir` (root is
/// usually the owner of the path, so the "other" execute bit decides).
fn reachable_by(user: RunAs, dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    dir.ancestors().all(|d| {
        let Ok(meta) = std::fs::metadata(d) else {
            return false;
        };
        let mode = meta.mode();
        if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    })
}

/// Where the cluster of a data directory the `postgres` user cannot reach
/// lives: a stable path derived from the data directory.
fn relocated_pgdata(data_dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    PathBuf::from(format!("/var/tmp/ratiba-{:016x}/postgres", h.finish()))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The `postgres` system user, from /etc/passwd.
fn postgres_user() -> Option<RunAs> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != "postgres" {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(RunAs { uid, gid })
    })
}

/// `RATIBA_PG_BIN_DIR`, else the directory of `pg_ctl` on PATH (symlinks
/// resolved, so initdb and postgres are its siblings), else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("RATIBA_PG_BIN_DIR") {
        let dir = PathBuf::from(dir);
        return complete(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("pg_ctl");
            if let Ok(real) = candidate.canonicalize()
                && let Some(bin) = real.parent()
                && complete(bin)
            {
                return Some(bin.to_owned());
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| complete(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether a process runs (a zombie waiting to be reaped has ended).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command's closing parenthesis.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_directories_are_not_reachable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("data");
        std::fs::create_dir(&inner).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let stranger = RunAs {
            uid: 54_321,
            gid: 54_321,
        };
        assert!(!reachable_by(stranger, &inner));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // /tmp and its ancestors are world-traversable on any sane system.
        assert!(reachable_by(stranger, &inner));
        let moved = relocated_pgdata(&inner);
        assert!(moved.starts_with("/var/tmp"));
        assert_eq!(moved, relocated_pgdata(&inner));
        assert_ne!(moved, relocated_pgdata(dir.path()));
    }

    #[test]
    fn long_paths_get_a_short_socket_dir() {
        let short = Path::new("/var/tmp/r/postgres");
        assert_eq!(socket_dir_for(short), short);
        let long = PathBuf::from(format!("/var/tmp/{}/postgres", "x".repeat(120)));
        let dir = socket_dir_for(&long);
        assert!(dir.to_string_lossy().starts_with("/tmp/ratiba-pg-"));
        assert!(dir.as_os_str().len() + 14 <= 100);
        assert_eq!(dir, socket_dir_for(&long), "stable for one cluster");
    }
}
