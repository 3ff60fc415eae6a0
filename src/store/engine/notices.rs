//! Expiry notices: creating them once, claiming one under a lease, recording the outcome.

use sqlx::{ColumnIndex, Executor, IntoArguments};

use super::SqlStore;
use crate::store::dialect::{Dialect, Value};
use crate::store::notice::{ClaimRow, ExpiringRow, NoticeTokenRow};
use crate::store::rows;
use crate::store::{Channel, ClaimedNotice, Error, ExpiringToken, NewNotice, NoticeOutcome, sql};

impl<DB> SqlStore<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'n> &'n str: ColumnIndex<DB::Row>,
    i64: Value<DB>,
    String: Value<DB>,
    bool: Value<DB>,
    Option<i64>: Value<DB>,
    Option<String>: Value<DB>,
{
    pub(super) async fn select_expiring(
        &self,
        now: i64,
        until: i64,
    ) -> Result<Vec<ExpiringToken>, Error> {
        rows::records(run!(fetch_all::<ExpiringRow>(&self.pool, sql::EXPIRING_TOKENS; now, until))?)
    }

    pub(super) async fn insert_notices(
        &self,
        notices: &[NewNotice],
        now: i64,
    ) -> Result<usize, Error> {
        let mut created = 0;
        for notice in notices {
            let id = run!(fetch_optional::<(i64,)>(&self.pool, sql::ADD_NOTICE;
                notice.token.0,
                notice.threshold.as_str().to_owned(),
                notice.channel.as_str().to_owned(),
                now))?;
            created += usize::from(id.is_some());
        }
        Ok(created)
    }

    pub(super) async fn lease_notice(
        &self,
        now: i64,
        lease_until: i64,
        channels: &[Channel],
    ) -> Result<Option<ClaimedNotice>, Error> {
        let webhook = channels.contains(&Channel::Webhook);
        let mail = channels.contains(&Channel::Mail);
        let claimed = run!(fetch_optional::<ClaimRow>(&self.pool, sql::CLAIM_NOTICE;
            now, lease_until, webhook, mail))?;
        let Some(claim) = claimed else {
            return Ok(None);
        };
        let token =
            run!(fetch_one::<NoticeTokenRow>(&self.pool, sql::NOTICE_TOKEN; claim.token_id))?;
        claim.with_token(token).map(Some)
    }

    pub(super) async fn record_notice(
        &self,
        claim: &ClaimedNotice,
        outcome: &NoticeOutcome,
        now: i64,
    ) -> Result<bool, Error> {
        let (id, attempt) = (claim.id, claim.attempt);
        let updated = match outcome {
            NoticeOutcome::Delivered => {
                let reason: Option<String> = None;
                run!(fetch_optional::<(i64,)>(&self.pool, sql::FINISH_NOTICE;
                    id, attempt, now, "delivered".to_owned(), reason))?
            }
            NoticeOutcome::Skipped { reason } => {
                run!(fetch_optional::<(i64,)>(&self.pool, sql::FINISH_NOTICE;
                    id, attempt, now, "skipped".to_owned(), Some(reason.clone())))?
            }
            NoticeOutcome::Failed { retry_at, reason } => {
                run!(fetch_optional::<(i64,)>(&self.pool, sql::RETRY_NOTICE;
                    id, attempt, *retry_at, reason.clone()))?
            }
        };
        Ok(updated.is_some())
    }
}
