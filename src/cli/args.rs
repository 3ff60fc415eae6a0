//! Command-line arguments (DESIGN.md "CLI", a stable contract). Values are parsed into
//! their domain types here, so a bad name, pattern, scope or date is a usage error (exit 2).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::names::{Email, TokenName, UserName};
use crate::refs::RefPattern;
use crate::repo::RepoPattern;
use crate::vocabulary::{Access, Role, Scope};

#[derive(Debug, Parser)]
#[command(
    name = "vcsgate",
    version,
    about = "Token-checked proxy for Git, Mercurial and Subversion over HTTP"
)]
pub struct Cli {
    /// Config file (default: $VCSGATE_CONFIG, else ./proxy.toml)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the proxy
    Serve,
    /// Validate the config file without serving
    CheckConfig,
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
    /// Manage grants (user × repo pattern × access)
    #[command(subcommand)]
    Grant(GrantCommand),
    /// Manage access tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Read the audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage protected refs (Git pushes may not delete or rewind them)
    #[command(subcommand)]
    Protect(ProtectCommand),
    /// Work on the store as a whole
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProtectCommand {
    /// Protect refs matching REF_PATTERN in repositories matching REPO_PATTERN (updates the
    /// flags of an existing protection)
    Add {
        repo_pattern: PatternArg,
        ref_pattern: RefPatternArg,
        /// Allow pushes that delete a matching ref
        #[arg(long)]
        allow_delete: bool,
        /// Allow pushes that rewind a matching ref (non-fast-forward)
        #[arg(long)]
        allow_force: bool,
    },
    /// Remove a protection
    Remove {
        repo_pattern: PatternArg,
        ref_pattern: RefPatternArg,
    },
    /// List protections
    List(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy everything in the configured store into a new, empty store (SQLite ⇄ PostgreSQL)
    Copy {
        /// The target: postgres://USER[:PASSWORD]@HOST[:PORT]/DB or sqlite://FILE (a relative
        /// FILE is taken from the current directory)
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first
    List {
        /// Only events about or by USER
        #[arg(long, value_name = "USER")]
        user: Option<UserNameArg>,
        /// At most N events
        #[arg(long, value_name = "N", default_value_t = crate::manage::audit::DEFAULT_LIMIT,
              value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
        limit: i64,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (a bot needs --manager)
    Add(UserAdd),
    /// Change a user's role, email, or a bot's managers
    Set(UserSet),
    /// Disable a user: all its tokens are refused until enabled again
    Disable { name: UserNameArg },
    /// Enable a disabled user
    Enable { name: UserNameArg },
    /// List users
    List(JsonFlag),
    /// Print a one-time sign-in link for the pages, alone on the last line of stdout
    LoginLink {
        name: UserNameArg,
        /// Minutes the link stays valid (1 to 10080)
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=10080))]
        ttl: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Grant USER read or write access to repositories matching PATTERN (updates an existing grant)
    Add {
        user: UserNameArg,
        pattern: PatternArg,
        access: AccessArg,
        /// Limit pushes under this grant to refs matching PATTERN (repeatable; `*` within a
        /// segment, `**` across segments)
        #[arg(long = "refs", value_name = "PATTERN")]
        refs: Vec<RefPatternArg>,
    },
    /// Remove a grant
    Remove {
        user: UserNameArg,
        pattern: PatternArg,
    },
    /// List grants, of one user or all
    List {
        user: Option<UserNameArg>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once, alone on the last line of stdout
    Create(TokenCreate),
    /// List active tokens (--all adds revoked and expired ones)
    List {
        user: Option<UserNameArg>,
        /// Include revoked and expired tokens
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a user's active token by name
    Revoke {
        user: UserNameArg,
        name: TokenNameArg,
    },
    /// Replace a user's active token with a new secret (same name, scopes and repo limits)
    /// and revoke the old one at once; the new secret is printed alone on the last line
    Rotate {
        user: UserNameArg,
        name: TokenNameArg,
        /// Expiry of the new token: a date (invalid from its midnight UTC) or an RFC 3339
        /// timestamp with offset
        #[arg(long, value_name = "DATE|RFC3339")]
        expires: Option<String>,
    },
    /// List active tokens that expire within DAYS (soonest first), with the whole days left
    Expiring {
        /// How many days ahead to look
        #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_EXPIRING_DAYS,
              value_parser = clap::value_parser!(i64).range(1..=36_500))]
        within: i64,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// `token expiring` looks this many days ahead unless `--within` says otherwise.
pub const DEFAULT_EXPIRING_DAYS: i64 = 7;

#[derive(Debug, Args)]
pub struct TokenCreate {
    pub user: UserNameArg,
    /// Token name, unique among the user's active tokens
    #[arg(long)]
    pub name: TokenNameArg,
    /// read_repository, write_repository, api, read_feed or read_web (repeat or separate with
    /// commas)
    #[arg(long = "scope", required = true, value_delimiter = ',')]
    pub scopes: Vec<ScopeArg>,
    /// Limit the token to repositories matching PATTERN (repeatable)
    #[arg(long = "repo", value_name = "PATTERN")]
    pub repos: Vec<PatternArg>,
    /// Limit the token's pushes to refs matching PATTERN (repeatable)
    #[arg(long = "refs", value_name = "PATTERN")]
    pub refs: Vec<RefPatternArg>,
    /// Expiry: a date (invalid from its midnight UTC) or an RFC 3339 timestamp with offset
    #[arg(long, value_name = "DATE|RFC3339")]
    pub expires: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserAdd {
    pub name: UserNameArg,
    /// Give the user the admin role (manages all users, grants and tokens)
    #[arg(long)]
    pub admin: bool,
    /// Where expiry notices go
    #[arg(long, value_name = "ADDR")]
    pub email: Option<EmailArg>,
    /// A bot: no pages or sign-in; its managers handle its tokens
    #[arg(long, requires = "managers")]
    pub bot: bool,
    /// A (non-bot) user who manages the bot's tokens (repeatable)
    #[arg(long = "manager", value_name = "USER", requires = "bot")]
    pub managers: Vec<UserNameArg>,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["role", "email", "managers", "remove_managers"])
))]
pub struct UserSet {
    pub name: UserNameArg,
    /// admin or user
    #[arg(long)]
    pub role: Option<RoleArg>,
    /// Where expiry notices go
    #[arg(long, value_name = "ADDR")]
    pub email: Option<EmailArg>,
    /// Add a manager to a bot (repeatable)
    #[arg(long = "manager", value_name = "USER")]
    pub managers: Vec<UserNameArg>,
    /// Remove a manager from a bot (repeatable; the last one cannot go)
    #[arg(long = "remove-manager", value_name = "USER")]
    pub remove_managers: Vec<UserNameArg>,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

macro_rules! parsed_arg {
    ($name:ident, $inner:ty, $parse:expr) => {
        #[derive(Debug, Clone)]
        pub struct $name(pub $inner);

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let parse: fn(&str) -> Result<$inner, String> = $parse;
                parse(s).map($name)
            }
        }
    };
}

parsed_arg!(UserNameArg, UserName, |s| UserName::parse(s)
    .map_err(|e| e.to_string()));
parsed_arg!(TokenNameArg, TokenName, |s| TokenName::parse(s)
    .map_err(|e| e.to_string()));
parsed_arg!(PatternArg, RepoPattern, |s| RepoPattern::parse(s)
    .map_err(|e| e.to_string()));
parsed_arg!(RefPatternArg, RefPattern, |s| RefPattern::parse(s)
    .map_err(|e| e.to_string()));
parsed_arg!(AccessArg, Access, |s| s
    .parse::<Access>()
    .map_err(|e| e.to_string()));
parsed_arg!(RoleArg, Role, |s| s
    .parse::<Role>()
    .map_err(|e| e.to_string()));
parsed_arg!(EmailArg, Email, |s| Email::parse(s)
    .map_err(|e| e.to_string()));
parsed_arg!(ScopeArg, Scope, |s| s
    .parse::<Scope>()
    .map_err(|e| e.to_string()));
