//! Deleted mail: what an account can still get back, and bringing it back.

use crate::{Admin, Result};
use mailroom_store::{RecoverableMessage, RecoveryFilter, RecoveryId, Restored};

impl Admin {
    pub async fn recoverable(
        &self,
        address: &str,
        filter: RecoveryFilter,
    ) -> Result<Vec<RecoverableMessage>> {
        let account = self.account(address).await?;
        Ok(self.store.list_recoverable(account.id, filter).await?)
    }

    /// Puts the messages back into their folders (recreated if gone) with their flags and
    /// dates. Ids that are not recoverable for this account are left out of the answer.
    pub async fn restore(&self, address: &str, ids: &[RecoveryId]) -> Result<Vec<Restored>> {
        let account = self.account(address).await?;
        Ok(self.store.restore(account.id, ids).await?)
    }

    /// Everything `filter` selects, restored.
    pub async fn restore_matching(
        &self,
        address: &str,
        filter: RecoveryFilter,
    ) -> Result<Vec<Restored>> {
        let ids: Vec<RecoveryId> = self
            .recoverable(address, filter)
            .await?
            .iter()
            .map(|m| m.id)
            .collect();
        self.restore(address, &ids).await
    }
}
