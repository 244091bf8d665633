//! Group channels and their members, bounded in count and size.

use super::{HubConfig, SubError};
use std::collections::{BTreeMap, BTreeSet};

/// `group id -> member uids`.
#[derive(Debug, Default)]
pub(super) struct Groups {
    by_id: BTreeMap<String, BTreeSet<String>>,
    max_groups: usize,
    max_members: usize,
}

impl Groups {
    /// The groups preconfigured in `config`.
    pub(super) fn new(config: &HubConfig) -> Groups {
        let by_id = config
            .groups
            .iter()
            .map(|(g, members)| (g.clone(), members.iter().cloned().collect()))
            .collect();
        Groups {
            by_id,
            max_groups: config.max_groups,
            max_members: config.max_group_members,
        }
    }

    /// Members of `group`.
    pub(super) fn members(&self, group: &str) -> Option<&BTreeSet<String>> {
        self.by_id.get(group)
    }

    /// Adds `uid` to `group`, creating the group.
    pub(super) fn join(&mut self, group: &str, uid: &str) -> Result<(), SubError> {
        if !self.by_id.contains_key(group) && self.by_id.len() >= self.max_groups {
            return Err(SubError::TooManyGroups);
        }
        let members = self.by_id.entry(group.to_owned()).or_default();
        if !members.contains(uid) && members.len() >= self.max_members {
            return Err(SubError::GroupFull);
        }
        members.insert(uid.to_owned());
        Ok(())
    }

    /// Removes `uid` from `group`; an emptied group is forgotten.
    pub(super) fn leave(&mut self, group: &str, uid: &str) -> Result<(), SubError> {
        let Some(members) = self.by_id.get_mut(group) else {
            return Err(SubError::NoSuchGroup);
        };
        if !members.remove(uid) {
            return Err(SubError::NotAMember);
        }
        if members.is_empty() {
            self.by_id.remove(group);
        }
        Ok(())
    }
}
