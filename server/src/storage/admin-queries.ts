import { GROUP_SETTING_COLUMNS, MEMBER_COLUMNS } from './rows';

/**
 * The SQL of the server REST API's lists (an app's users and groups, a group's members), for both
 * engines. Each pages by id on the table's primary key, so a page is an index range read; a
 * `query` filters that range (a case-insensitive substring of the id or the name), which no index
 * serves: a search reads the app's rows until it has a page.
 */

const GROUP_LIST_COLUMNS = `g.group_id, g.name, g.description, g.owner_id, g.created_at, ${GROUP_SETTING_COLUMNS},
  (SELECT COUNT(*) FROM group_members x WHERE x.app_id = g.app_id AND x.group_id = g.group_id) AS member_count`;

/** SQLite's lower() folds ASCII letters only; PostgreSQL's folds every cased letter. */
export const SQLITE_ADMIN = {
  users: `SELECT * FROM users WHERE app_id = @app AND user_id > @after
    AND (@q IS NULL OR instr(lower(user_id), lower(@q)) > 0 OR instr(lower(user_name), lower(@q)) > 0)
    ORDER BY user_id LIMIT @limit`,
  groups: `SELECT ${GROUP_LIST_COLUMNS} FROM groups g WHERE g.app_id = @app AND g.dismissed_at IS NULL AND g.group_id > @after
    AND (@q IS NULL OR instr(lower(g.group_id), lower(@q)) > 0 OR instr(lower(g.name), lower(@q)) > 0)
    ORDER BY g.group_id LIMIT @limit`,
  members: `SELECT ${MEMBER_COLUMNS} FROM group_members gm LEFT JOIN users u ON u.app_id = gm.app_id AND u.user_id = gm.user_id
    WHERE gm.app_id = @app AND gm.group_id = @group AND gm.user_id > @after ORDER BY gm.user_id LIMIT @limit`,
} as const;

export const PG_ADMIN = {
  users: `SELECT * FROM users WHERE app_id = $1 AND user_id > $2
    AND ($3::text IS NULL OR strpos(lower(user_id), lower($3::text)) > 0 OR strpos(lower(user_name), lower($3::text)) > 0)
    ORDER BY user_id LIMIT $4`,
  groups: `SELECT ${GROUP_LIST_COLUMNS} FROM groups g WHERE g.app_id = $1 AND g.dismissed_at IS NULL AND g.group_id > $2
    AND ($3::text IS NULL OR strpos(lower(g.group_id), lower($3::text)) > 0 OR strpos(lower(g.name), lower($3::text)) > 0)
    ORDER BY g.group_id LIMIT $4`,
  members: `SELECT ${MEMBER_COLUMNS} FROM group_members gm LEFT JOIN users u ON u.app_id = gm.app_id AND u.user_id = gm.user_id
    WHERE gm.app_id = $1 AND gm.group_id = $2 AND gm.user_id > $3 ORDER BY gm.user_id LIMIT $4`,
  /** New users of an import, with the defaults; existing ones are left to usersPatch. */
  usersInsert: `INSERT INTO users (app_id, user_id, user_name, user_img, company_name, im_role, valid, created_at, updated_at)
    SELECT $1, t.id, COALESCE(t.name, t.id), COALESCE(t.img, ''), COALESCE(t.company, ''), COALESCE(t.role, 'user'), COALESCE(t.valid, true), $8, $8
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[]) AS t(id, name, img, company, role, valid)
    ON CONFLICT (app_id, user_id) DO NOTHING`,
  /** What an import names, on every user of it (on the new ones it changes nothing). */
  usersPatch: `UPDATE users u SET user_name = COALESCE(t.name, u.user_name), user_img = COALESCE(t.img, u.user_img),
      company_name = COALESCE(t.company, u.company_name), im_role = COALESCE(t.role, u.im_role), valid = COALESCE(t.valid, u.valid), updated_at = $8
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[]) AS t(id, name, img, company, role, valid)
    WHERE u.app_id = $1 AND u.user_id = t.id`,
} as const;
