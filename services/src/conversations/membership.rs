//! Who is in which conversation: direct conversations, groups and their
//! members, public rooms joined and left.

use domain::{ConversationKind, DisplayName, MemberRole};
use tracing::instrument;
use uuid::Uuid;

use super::{group_full, ConversationService, GROUP_CAPACITY, MAX_GROUP_MEMBERS};
use crate::store::Admission;
use crate::ServiceError;
use domain::protocol::ServerFrame;

impl ConversationService {
    /// Puts a new account in the default rooms (missing rooms are skipped).
    pub async fn join_default_rooms(&self, user_id: Uuid) -> Result<(), ServiceError> {
        for name in &self.policy.default_rooms {
            if let Some(room) = self.store.public_room_by_name(name).await? {
                self.store
                    .add_member(room.id, user_id, MemberRole::Member)
                    .await?;
            }
        }
        Ok(())
    }

    /// Where a new account starts: the first default room that exists and
    /// `user_id` is a member of (it was put there when it was created).
    pub async fn landing_room(&self, user_id: Uuid) -> Result<Option<Uuid>, ServiceError> {
        for name in &self.policy.default_rooms {
            if let Some(room) = self.store.public_room_by_name(name).await? {
                if self.members.is_member(room.id, user_id).await? {
                    return Ok(Some(room.id));
                }
            }
        }
        Ok(None)
    }

    /// Those of `conversations` that `user_id` is a member of (through the
    /// membership cache: one lookup each, no query when cached).
    pub async fn joined_among(
        &self,
        user_id: Uuid,
        conversations: &[Uuid],
    ) -> Result<Vec<Uuid>, ServiceError> {
        let mut joined = Vec::new();
        for &id in conversations {
            if self.members.is_member(id, user_id).await? {
                joined.push(id);
            }
        }
        Ok(joined)
    }

    /// The direct conversation with `other`, opened if needed.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn open_direct(&self, user_id: Uuid, other: Uuid) -> Result<Uuid, ServiceError> {
        self.may_take_part(other).await?;
        let (conversation, created) = self.store.open_direct(user_id, other).await?;
        if created {
            for user in [user_id, other] {
                self.notify(
                    user,
                    ServerFrame::Joined {
                        conversation_id: conversation.id,
                    },
                )
                .await;
            }
        }
        Ok(conversation.id)
    }

    /// Creates a private group owned by the user.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn create_group(
        &self,
        user_id: Uuid,
        name: &str,
        members: &[Uuid],
    ) -> Result<Uuid, ServiceError> {
        let name = DisplayName::parse(name).map_err(|e| {
            ServiceError::InvalidName(domain::NameError {
                field: "name",
                rule: e.rule,
            })
        })?;
        if members.len() > MAX_GROUP_MEMBERS {
            return Err(ServiceError::Invalid(format!(
                "member_ids: at most {MAX_GROUP_MEMBERS} members"
            )));
        }
        for member in members {
            self.may_take_part(*member).await?;
        }
        let group = self
            .store
            .create_group(user_id, name.as_str(), members)
            .await?;
        for user in std::iter::once(&user_id).chain(members) {
            self.notify(
                *user,
                ServerFrame::Joined {
                    conversation_id: group.id,
                },
            )
            .await;
        }
        Ok(group.id)
    }

    /// Adds a member to a group: owners and admins only.
    #[instrument(skip_all, fields(user = %actor))]
    pub async fn add_member(
        &self,
        actor: Uuid,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, ServiceError> {
        let (group, role) = self.membership(actor, conversation_id).await?;
        // Refused, not invalid: the request is well formed, but this
        // conversation's members are not managed this way.
        if group.kind != ConversationKind::Group {
            return Err(ServiceError::Forbidden(
                "members are added to groups only; rooms are joined",
            ));
        }
        if !role.may_add_members() {
            return Err(ServiceError::Forbidden(
                "only the group's owners and admins may add members",
            ));
        }
        self.may_take_part(user_id).await?;
        let added = match self
            .store
            .add_member_within(conversation_id, user_id, MemberRole::Member, GROUP_CAPACITY)
            .await?
        {
            Admission::Added => true,
            Admission::AlreadyMember => false,
            Admission::Full => return Err(group_full()),
        };
        if added {
            self.notify(user_id, ServerFrame::Joined { conversation_id })
                .await;
            self.announce_members(conversation_id).await;
        }
        Ok(added)
    }

    /// Succeeds for someone who can be put in a conversation: an account
    /// that exists and may sign in (a disabled one counts as none).
    async fn may_take_part(&self, user_id: Uuid) -> Result<(), ServiceError> {
        match self.store.user_by_id(user_id).await? {
            Some(user) if !user.is_disabled() => Ok(()),
            _ => Err(ServiceError::NotFound("user")),
        }
    }

    /// Removes a member from a group: owners and admins remove others (an
    /// admin cannot remove an owner); anyone may remove themselves (leave).
    #[instrument(skip_all, fields(user = %actor))]
    pub async fn remove_member(
        &self,
        actor: Uuid,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<(), ServiceError> {
        let (group, role) = self.membership(actor, conversation_id).await?;
        if group.kind == ConversationKind::Direct {
            return Err(ServiceError::Forbidden(
                "a direct conversation has no members to remove",
            ));
        }
        if actor != user_id {
            let target = self
                .members
                .role(conversation_id, user_id)
                .await?
                .ok_or(ServiceError::NotFound("member"))?;
            if group.kind != ConversationKind::Group || role == MemberRole::Member {
                return Err(ServiceError::Forbidden(
                    "only the group's owners and admins may remove members",
                ));
            }
            if !role.may_remove(target) {
                return Err(ServiceError::Forbidden("an admin may not remove an owner"));
            }
        }
        if !self.store.remove_member(conversation_id, user_id).await? {
            return Err(ServiceError::NotFound("member"));
        }
        self.notify(user_id, ServerFrame::Left { conversation_id })
            .await;
        // The last owner left a group: it is not left without anyone who
        // may manage it.
        if group.kind == ConversationKind::Group {
            if let Some(owner) = self.store.ensure_owner(conversation_id).await? {
                tracing::info!(%conversation_id, %owner, "the group's last owner left; ownership passed on");
                self.members.changed(conversation_id, Some(owner)).await;
            }
            self.announce_members(conversation_id).await;
        }
        Ok(())
    }

    /// Joins a public room by name or id.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn join_room(&self, user_id: Uuid, room: &str) -> Result<Uuid, ServiceError> {
        let room_id = self.public_room(room).await?;
        if self
            .store
            .add_member(room_id, user_id, MemberRole::Member)
            .await?
        {
            self.notify(
                user_id,
                ServerFrame::Joined {
                    conversation_id: room_id,
                },
            )
            .await;
        }
        Ok(room_id)
    }

    /// Leaves a public room by name or id.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn leave_room(&self, user_id: Uuid, room: &str) -> Result<Uuid, ServiceError> {
        let room_id = self.public_room(room).await?;
        if self.store.remove_member(room_id, user_id).await? {
            self.notify(
                user_id,
                ServerFrame::Left {
                    conversation_id: room_id,
                },
            )
            .await;
        }
        Ok(room_id)
    }
}

impl ConversationService {
    /// Announces that an integration's bot joined or left a conversation
    /// (the store changed the membership already): its membership is
    /// looked up again everywhere and the member list refreshes.
    pub(crate) async fn bot_membership_changed(
        &self,
        conversation_id: Uuid,
        bot_id: Uuid,
        joined: bool,
    ) {
        let event = if joined {
            ServerFrame::Joined { conversation_id }
        } else {
            ServerFrame::Left { conversation_id }
        };
        self.notify(bot_id, event).await;
        self.announce_members(conversation_id).await;
    }
}
