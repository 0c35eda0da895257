-- installation admins (manage accounts, read the audit log) and disabled accounts (no
-- sign-in, no refresh). The account created when there was none becomes an admin (see
-- the store's create_user); on an existing installation that is its oldest account.
alter table users add column is_admin integer not null default 0;
alter table users add column disabled_at text;
update users set is_admin = 1
where id = (select id from users order by created_at, id limit 1);
