//! Listings as aligned tables or JSON.

use serde_json::{Value, json};

use super::expiry::format;
use crate::api::views;
use crate::notify::schedule::days_left;
use crate::store::{AuditEvent, ExpiringToken, Grant, TokenInfo, User};

fn print_table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row);
    }
}

fn print_json(value: Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
}

fn time_or_dash(at: Option<i64>) -> String {
    at.map(format).unwrap_or_else(|| "-".to_owned())
}

pub fn users(users: &[User], json: bool) {
    if json {
        print_json(Value::Array(
            users
                .iter()
                .map(|u| {
                    json!({
                        "name": u.name.as_str(),
                        "active": u.active,
                        "created_at": format(u.created_at),
                        "role": u.role.as_str(),
                        "bot": u.bot,
                        "email": u.email.as_ref().map(|e| e.as_str()),
                        "managers": u.managers.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        ));
        return;
    }
    let rows = users
        .iter()
        .map(|u| {
            let managers: Vec<&str> = u.managers.iter().map(|m| m.as_str()).collect();
            vec![
                u.name.to_string(),
                if u.active { "active" } else { "disabled" }.to_owned(),
                format(u.created_at),
                u.role.to_string(),
                if u.bot { "bot" } else { "-" }.to_owned(),
                u.email
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |e| e.to_string()),
                if managers.is_empty() {
                    "-".to_owned()
                } else {
                    managers.join(",")
                },
            ]
        })
        .collect();
    print_table(
        &[
            "USER", "STATUS", "CREATED", "ROLE", "BOT", "EMAIL", "MANAGERS",
        ],
        rows,
    );
}

pub fn grants(grants: &[Grant], json: bool) {
    if json {
        print_json(Value::Array(grants.iter().map(views::grant).collect()));
        return;
    }
    let rows = grants
        .iter()
        .map(|g| {
            vec![
                g.user.to_string(),
                g.pattern.to_string(),
                g.access.to_string(),
            ]
        })
        .collect();
    print_table(&["USER", "PATTERN", "ACCESS"], rows);
}

pub fn tokens(tokens: &[TokenInfo], all: bool, json: bool, now: i64) {
    if json {
        print_json(Value::Array(
            tokens.iter().map(|t| views::token(t, now)).collect(),
        ));
        return;
    }
    let mut header = vec![
        "USER",
        "NAME",
        "SCOPES",
        "REPOS",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "PREFIX",
    ];
    if all {
        header.push("STATUS");
    }
    header.push("LAST FROM");
    let rows = tokens
        .iter()
        .map(|t| {
            let repos: Vec<&str> = t.repos.iter().map(|p| p.as_str()).collect();
            let mut row = vec![
                t.user.to_string(),
                t.name.to_string(),
                t.scopes.to_list(),
                if repos.is_empty() {
                    "*".to_owned()
                } else {
                    repos.join(",")
                },
                format(t.created_at),
                time_or_dash(t.expires_at),
                time_or_dash(t.last_used_at),
                t.public_prefix.clone(),
            ];
            if all {
                row.push(views::token_status(t, now).to_owned());
            }
            row.push(t.last_used_ip.clone().unwrap_or_else(|| "-".to_owned()));
            row
        })
        .collect();
    print_table(&header, rows);
}

/// `token expiring`: user, name, expiry and whole days left, soonest first.
pub fn expiring(tokens: &[ExpiringToken], json: bool, now: i64) {
    if json {
        print_json(Value::Array(
            tokens
                .iter()
                .map(|t| {
                    json!({
                        "user": t.user.as_str(),
                        "name": t.name.as_str(),
                        "expires_at": format(t.expires_at),
                        "days_left": days_left(t.expires_at, now),
                    })
                })
                .collect(),
        ));
        return;
    }
    let rows = tokens
        .iter()
        .map(|t| {
            vec![
                t.user.to_string(),
                t.name.to_string(),
                format(t.expires_at),
                days_left(t.expires_at, now).to_string(),
            ]
        })
        .collect();
    print_table(&["USER", "NAME", "EXPIRES", "DAYS LEFT"], rows);
}

pub fn audit(events: &[AuditEvent], json: bool) {
    if json {
        print_json(Value::Array(events.iter().map(views::audit).collect()));
        return;
    }
    let rows = events
        .iter()
        .map(|e| {
            vec![
                format(e.at),
                e.actor.clone(),
                e.client.clone().unwrap_or_else(|| "-".to_owned()),
                e.action.to_string(),
                e.target.to_string(),
                e.detail.clone(),
            ]
        })
        .collect();
    print_table(
        &["TIME", "ACTOR", "CLIENT", "ACTION", "TARGET", "DETAIL"],
        rows,
    );
}
