"""knowledge base and full-text search

Articles with versions, votes, feedback tasks and tallies; the portal's search index
(search_documents: forms and articles) and the queue's (request_texts: a request's description
and messages). SQLite indexes them with FTS5 tables kept by triggers over stems computed in
Python; PostgreSQL with generated tsvector columns (configuration portal_pt: unaccent, then the
portuguese stemmer) and GIN indexes. The catalog's items and every request's text are indexed
here once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 11:02:52.740460

"""
import sqlalchemy as sa
from alembic import op

from portal.core import fulltext


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _fts5(table, columns, rowid):
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
        f"content_rowid='{rowid}', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.{rowid}, {new}); END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.{rowid}, {old}); END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.{rowid}, {old}); "
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.{rowid}, {new}); END",
    ]


SQLITE_UP = [
    *_fts5("search_documents", ["title_terms", "body_terms"], "id"),
    *_fts5("request_texts", ["terms"], "request_id"),
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {t}_{s}" for t in ("search_documents", "request_texts") for s in ("ai", "ad", "au")
] + ["DROP TABLE IF EXISTS search_documents_fts", "DROP TABLE IF EXISTS request_texts_fts"]

CONFIG = fulltext.CONFIG


def _words(column):
    return f"regexp_replace({column}, '[^[:alnum:]]+', ' ', 'g')"

POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = portuguese)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR hword, hword_part, word "
    "WITH unaccent, portuguese_stem",
    # Non-word characters become spaces first, so an e-mail address, a URL or a file name is
    # words to PostgreSQL as it is to SQLite's tokenizer (its parser would keep each as one).
    "ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    f"setweight(to_tsvector('{CONFIG}', {_words('title')}), 'A') || "
    f"setweight(to_tsvector('{CONFIG}', {_words('body')}), 'B')) STORED",
    "CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)",
    # Title matches are ranked first whatever how common the word is (fulltext.HORIZON).
    "ALTER TABLE search_documents ADD COLUMN title_document tsvector GENERATED ALWAYS AS ("
    f"to_tsvector('{CONFIG}', {_words('title')})) STORED",
    "CREATE INDEX ix_search_documents_title_document ON search_documents "
    "USING gin (title_document)",
    "ALTER TABLE request_texts ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    f"to_tsvector('{CONFIG}', {_words('body')})) STORED",
    "CREATE INDEX ix_request_texts_document ON request_texts USING gin (document)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_request_texts_document",
    "DROP INDEX IF EXISTS ix_search_documents_document",
    "DROP INDEX IF EXISTS ix_search_documents_title_document",
    "ALTER TABLE search_documents DROP COLUMN title_document",
    "ALTER TABLE request_texts DROP COLUMN document",
    "ALTER TABLE search_documents DROP COLUMN document",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}",
]


def _sqlite_only(*constraints):
    return constraints if op.get_bind().dialect.name == "sqlite" else ()


def _backfill(bind):
    """Index the catalog's active items and every request's description, in batches."""
    sqlite = bind.dialect.name == "sqlite"
    items = bind.execute(sa.text(
        "SELECT i.id, i.slug, i.name, i.short_description, i.description, i.category_id, "
        "c.name FROM catalog_items i JOIN categories c ON c.id = i.category_id WHERE i.active"
    )).all()
    for item_id, slug, name, short, description, category_id, category in items:
        body = "\n".join(p for p in (short, description, category) if p)
        bind.execute(
            sa.text(
                "INSERT INTO search_documents (kind, ref_id, category_id, restricted, label, "
                "title, body, slug, title_terms, body_terms) VALUES ('item', :ref, :cat, :no, '', "
                ":title, :body, :slug, :tt, :bt)"
            ),
            {"ref": item_id, "cat": category_id, "no": False, "title": name, "body": body,
             "slug": slug, "tt": fulltext.terms(name),
             "bt": fulltext.terms(body) if sqlite else ""},
        )
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, description FROM service_requests WHERE id > :last ORDER BY id LIMIT 5000"),
            {"last": last},
        ).all()
        if not rows:
            break
        texts = {i: [d or ""] for i, d in rows}
        entries = bind.execute(
            sa.text(
                "SELECT request_id, kind, body FROM timeline_entries WHERE request_id > :first "
                "AND request_id <= :last AND kind IN ('comment', 'note', 'transition') "
                "AND body <> '' ORDER BY id"
            ),
            {"first": last, "last": rows[-1][0]},
        )
        for request_id, kind, body in entries:
            if kind == "transition":
                # "Label:\nreason", or the bare label: only a reason is the request's text, as
                # the live code indexes it (transitions.fire).
                if "\n" not in body:
                    continue
                body = body.split("\n", 1)[1]
            texts[request_id].append(body)
        bind.execute(
            sa.text("INSERT INTO request_texts (request_id, body, terms) VALUES (:id, :body, :terms)"),
            [
                {"id": i, "body": "\n".join(t), "terms": fulltext.terms(" ".join(t)) if sqlite else ""}
                for i, t in texts.items()
            ],
        )
        last = rows[-1][0]


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('kb_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['kb_categories.id'], name=op.f('fk_kb_categories_parent_id_kb_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_categories')),
    sa.UniqueConstraint('parent_id', 'name', name='uq_kb_categories_parent_name')
    )
    with op.batch_alter_table('kb_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_categories_parent_id'), ['parent_id'], unique=False)

    op.create_table('search_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('slug', sa.String(length=160), nullable=False),
    sa.Column('title_terms', sa.Text(), nullable=False),
    sa.Column('body_terms', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents')),
    sa.UniqueConstraint('kind', 'ref_id', name='uq_search_documents_ref')
    )
    op.create_table('tallies',
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=30), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('subject_type', 'subject_id', 'metric', name=op.f('pk_tallies'))
    )
    op.create_table('articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'internal', name='visibility', native_enum=False, length=20), nullable=False),
    sa.Column('owner_group_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('is_live', sa.Boolean(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('live_version_id', sa.Integer(), nullable=True),
    sa.Column('working_version_id', sa.Integer(), nullable=True),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('view_count', sa.Integer(), nullable=False),
    sa.Column('helpful_yes', sa.Integer(), nullable=False),
    sa.Column('helpful_no', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_articles_author_id_users')),
    sa.ForeignKeyConstraint(['category_id'], ['kb_categories.id'], name=op.f('fk_articles_category_id_kb_categories')),
    sa.ForeignKeyConstraint(['owner_group_id'], ['support_groups.id'], name=op.f('fk_articles_owner_group_id_support_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('number', name=op.f('uq_articles_number')),
    # SQLite takes a reference to a table not created yet; PostgreSQL gets these two below.
    *_sqlite_only(
        sa.ForeignKeyConstraint(['live_version_id'], ['article_versions.id'], name='fk_articles_live_version'),
        sa.ForeignKeyConstraint(['working_version_id'], ['article_versions.id'], name='fk_articles_working_version'),
    ),
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_articles_live_category', ['is_live', 'visibility', 'category_id', 'published_at'], unique=False)
        batch_op.create_index('ix_articles_live_category_views', ['is_live', 'visibility', 'category_id', 'view_count'], unique=False)
        batch_op.create_index('ix_articles_live_published', ['is_live', 'visibility', 'published_at'], unique=False)
        batch_op.create_index('ix_articles_live_rating', ['is_live', 'visibility', 'helpful_yes'], unique=False)
        batch_op.create_index('ix_articles_live_views', ['is_live', 'visibility', 'view_count'], unique=False)

    op.create_table('article_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('owner_group_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('open', 'resolved', 'discarded', name='feedbackstate', native_enum=False, length=20), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_feedback_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_article_feedback_handled_by_id_users')),
    sa.ForeignKeyConstraint(['owner_group_id'], ['support_groups.id'], name=op.f('fk_article_feedback_owner_group_id_support_groups')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_article_feedback_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_feedback'))
    )
    with op.batch_alter_table('article_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_article_feedback_article_user', ['article_id', 'user_id'], unique=False)
        batch_op.create_index('ix_article_feedback_state_group', ['state', 'owner_group_id', 'created_at'], unique=False)

    op.create_table('article_items',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_items_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['catalog_items.id'], name=op.f('fk_article_items_item_id_catalog_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'item_id', name=op.f('pk_article_items'))
    )
    with op.batch_alter_table('article_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_items_item_id'), ['item_id'], unique=False)

    op.create_table('article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('draft', 'review', 'published', 'archived', 'discarded', name='versionstate', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('keywords', sa.String(length=300), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'internal', name='visibility', native_enum=False, length=20), nullable=False),
    sa.Column('owner_group_id', sa.Integer(), nullable=True),
    sa.Column('item_ids', sa.JSON(), nullable=False),
    sa.Column('restored_from_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_versions_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['kb_categories.id'], name=op.f('fk_article_versions_category_id_kb_categories')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_article_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['owner_group_id'], ['support_groups.id'], name=op.f('fk_article_versions_owner_group_id_support_groups')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_article_versions_published_by_id_users')),
    sa.ForeignKeyConstraint(['restored_from_id'], ['article_versions.id'], name=op.f('fk_article_versions_restored_from_id_article_versions')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_article_versions_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_versions'))
    )
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.create_index('ix_article_versions_article', ['article_id', 'id'], unique=False)

    op.create_table('article_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_votes_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_article_votes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_votes')),
    sa.UniqueConstraint('article_id', 'user_id', name='uq_article_votes_user')
    )
    with op.batch_alter_table('article_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_votes_user_id'), ['user_id'], unique=False)

    op.create_table('request_texts',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_request_texts_request_id_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_request_texts'))
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The two tables point at each other: the second half once both exist.
        op.create_foreign_key("fk_articles_live_version", "articles", "article_versions", ["live_version_id"], ["id"])
        op.create_foreign_key("fk_articles_working_version", "articles", "article_versions", ["working_version_id"], ["id"])
        for statement in POSTGRES_UP:
            op.execute(statement)
    else:
        for statement in SQLITE_UP:
            op.execute(statement)
    _backfill(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint("fk_articles_live_version", "articles", type_="foreignkey")
        op.drop_constraint("fk_articles_working_version", "articles", type_="foreignkey")
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    op.drop_table('request_texts')
    with op.batch_alter_table('article_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_votes_user_id'))

    op.drop_table('article_votes')
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_article_versions_article')

    op.drop_table('article_versions')
    with op.batch_alter_table('article_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_items_item_id'))

    op.drop_table('article_items')
    with op.batch_alter_table('article_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_article_feedback_state_group')
        batch_op.drop_index('ix_article_feedback_article_user')

    op.drop_table('article_feedback')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ix_articles_live_views')
        batch_op.drop_index('ix_articles_live_rating')
        batch_op.drop_index('ix_articles_live_published')
        batch_op.drop_index('ix_articles_live_category_views')
        batch_op.drop_index('ix_articles_live_category')
        batch_op.drop_index(batch_op.f('ix_articles_category_id'))

    op.drop_table('articles')
    op.drop_table('tallies')
    op.drop_table('search_documents')
    with op.batch_alter_table('kb_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_categories_parent_id'))

    op.drop_table('kb_categories')
    # ### end Alembic commands ###
