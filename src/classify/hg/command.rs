//! The wire protocol v1 commands vcsgate knows (PROTOCOLS.md §3), with the access each needs
//! and the argument names hg reads for it (`wireprotov1server.py`, largefiles).

use crate::vocabulary::Access;

/// A wire command other than `batch` (a batch is decided from the commands it carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HgCommand {
    Between,
    Branchmap,
    Branches,
    Capabilities,
    Changegroup,
    ChangegroupSubset,
    Clonebundles,
    ClonebundlesManifest,
    Debugwireargs,
    Getbundle,
    Heads,
    Hello,
    Known,
    Listkeys,
    Lookup,
    Protocaps,
    StreamOut,
    /// largefiles: download one large file.
    Getlfile,
    /// largefiles: does the server hold this large file?
    Statlfile,
    /// largefiles: `heads` under another name.
    Lheads,
    /// Adds changesets (and, through bundle2 parts, bookmarks and phases).
    Unbundle,
    /// Moves a bookmark, publishes a phase, … (namespace-dependent, always a mutation).
    Pushkey,
    /// largefiles: upload one large file.
    Putlfile,
}

/// What a `cmd=` value names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WireCommand {
    Batch,
    Single(HgCommand),
}

impl WireCommand {
    pub(super) fn from_name(name: &str) -> Option<WireCommand> {
        if name == "batch" {
            return Some(WireCommand::Batch);
        }
        HgCommand::from_name(name).map(WireCommand::Single)
    }

    /// Argument names hg reads for this command (`cmd` itself is not one).
    pub(super) fn args(self) -> &'static [&'static str] {
        match self {
            WireCommand::Batch => &["cmds"],
            WireCommand::Single(command) => command.args(),
        }
    }
}

/// Options `getbundle` accepts (`wireprototypes.GETBUNDLE_ARGUMENTS`, plus the narrow
/// extension's additions).
const GETBUNDLE_ARGS: &[&str] = &[
    "heads",
    "bookmarks",
    "common",
    "obsmarkers",
    "phases",
    "bundlecaps",
    "listkeys",
    "cg",
    "cbattempted",
    "stream",
    "includepats",
    "excludepats",
    "narrow",
    "depth",
    "oldincludepats",
    "oldexcludepats",
    "known",
];

impl HgCommand {
    pub const ALL: [HgCommand; 23] = [
        HgCommand::Between,
        HgCommand::Branchmap,
        HgCommand::Branches,
        HgCommand::Capabilities,
        HgCommand::Changegroup,
        HgCommand::ChangegroupSubset,
        HgCommand::Clonebundles,
        HgCommand::ClonebundlesManifest,
        HgCommand::Debugwireargs,
        HgCommand::Getbundle,
        HgCommand::Heads,
        HgCommand::Hello,
        HgCommand::Known,
        HgCommand::Listkeys,
        HgCommand::Lookup,
        HgCommand::Protocaps,
        HgCommand::StreamOut,
        HgCommand::Getlfile,
        HgCommand::Statlfile,
        HgCommand::Lheads,
        HgCommand::Unbundle,
        HgCommand::Pushkey,
        HgCommand::Putlfile,
    ];

    /// Exact, case-sensitive lookup of a wire name (R9).
    pub fn from_name(name: &str) -> Option<HgCommand> {
        HgCommand::ALL
            .into_iter()
            .find(|command| command.wire_name() == name)
    }

    pub fn access(self) -> Access {
        match self {
            HgCommand::Between
            | HgCommand::Branchmap
            | HgCommand::Branches
            | HgCommand::Capabilities
            | HgCommand::Changegroup
            | HgCommand::ChangegroupSubset
            | HgCommand::Clonebundles
            | HgCommand::ClonebundlesManifest
            | HgCommand::Debugwireargs
            | HgCommand::Getbundle
            | HgCommand::Heads
            | HgCommand::Hello
            | HgCommand::Known
            | HgCommand::Listkeys
            | HgCommand::Lookup
            | HgCommand::Protocaps
            | HgCommand::StreamOut
            | HgCommand::Getlfile
            | HgCommand::Statlfile
            | HgCommand::Lheads => Access::Read,
            HgCommand::Unbundle | HgCommand::Pushkey | HgCommand::Putlfile => Access::Write,
        }
    }

    /// The name on the wire (`?cmd=…`).
    pub fn wire_name(self) -> &'static str {
        match self {
            HgCommand::Between => "between",
            HgCommand::Branchmap => "branchmap",
            HgCommand::Branches => "branches",
            HgCommand::Capabilities => "capabilities",
            HgCommand::Changegroup => "changegroup",
            HgCommand::ChangegroupSubset => "changegroupsubset",
            HgCommand::Clonebundles => "clonebundles",
            HgCommand::ClonebundlesManifest => "clonebundles_manifest",
            HgCommand::Debugwireargs => "debugwireargs",
            HgCommand::Getbundle => "getbundle",
            HgCommand::Heads => "heads",
            HgCommand::Hello => "hello",
            HgCommand::Known => "known",
            HgCommand::Listkeys => "listkeys",
            HgCommand::Lookup => "lookup",
            HgCommand::Protocaps => "protocaps",
            HgCommand::StreamOut => "stream_out",
            HgCommand::Getlfile => "getlfile",
            HgCommand::Statlfile => "statlfile",
            HgCommand::Lheads => "lheads",
            HgCommand::Unbundle => "unbundle",
            HgCommand::Pushkey => "pushkey",
            HgCommand::Putlfile => "putlfile",
        }
    }

    /// The operation name for logs.
    pub fn op_name(self) -> &'static str {
        match self {
            HgCommand::Between => "hg-between",
            HgCommand::Branchmap => "hg-branchmap",
            HgCommand::Branches => "hg-branches",
            HgCommand::Capabilities => "hg-capabilities",
            HgCommand::Changegroup => "hg-changegroup",
            HgCommand::ChangegroupSubset => "hg-changegroupsubset",
            HgCommand::Clonebundles => "hg-clonebundles",
            HgCommand::ClonebundlesManifest => "hg-clonebundles-manifest",
            HgCommand::Debugwireargs => "hg-debugwireargs",
            HgCommand::Getbundle => "hg-getbundle",
            HgCommand::Heads => "hg-heads",
            HgCommand::Hello => "hg-hello",
            HgCommand::Known => "hg-known",
            HgCommand::Listkeys => "hg-listkeys",
            HgCommand::Lookup => "hg-lookup",
            HgCommand::Protocaps => "hg-protocaps",
            HgCommand::StreamOut => "hg-stream-out",
            HgCommand::Getlfile => "hg-getlfile",
            HgCommand::Statlfile => "hg-statlfile",
            HgCommand::Lheads => "hg-lheads",
            HgCommand::Unbundle => "hg-unbundle",
            HgCommand::Pushkey => "hg-pushkey",
            HgCommand::Putlfile => "hg-putlfile",
        }
    }

    /// Argument names hg reads for this command. A command declared with `*` in hg
    /// (`getbundle`, `known`, `debugwireargs`) gets the names it actually uses.
    pub(super) fn args(self) -> &'static [&'static str] {
        match self {
            HgCommand::Between => &["pairs"],
            HgCommand::Branches => &["nodes"],
            HgCommand::Changegroup => &["roots"],
            HgCommand::ChangegroupSubset => &["bases", "heads"],
            HgCommand::Debugwireargs => &["one", "two", "three", "four"],
            HgCommand::Getbundle => GETBUNDLE_ARGS,
            HgCommand::Known => &["nodes"],
            HgCommand::Listkeys => &["namespace"],
            HgCommand::Lookup => &["key"],
            HgCommand::Protocaps => &["caps"],
            HgCommand::Pushkey => &["namespace", "key", "old", "new"],
            HgCommand::Unbundle => &["heads"],
            HgCommand::Getlfile | HgCommand::Statlfile | HgCommand::Putlfile => &["sha"],
            HgCommand::Branchmap
            | HgCommand::Capabilities
            | HgCommand::Clonebundles
            | HgCommand::ClonebundlesManifest
            | HgCommand::Heads
            | HgCommand::Hello
            | HgCommand::StreamOut
            | HgCommand::Lheads => &[],
        }
    }
}
