"""The text-search configuration behind every search vector: Norwegian with compound splitting.

`handbook_nb` chains three dictionaries for each word:

1. `handbook_nb_stop`: PostgreSQL's Norwegian stopwords. It comes first because the Ispell
   dictionary checks its stopword list against the forms it produces, not against the word
   itself: alone it turns "med" into "mede" and "kan" into "kane".
2. `handbook_nb_ispell`: Debian's hunspell-no (`nb_no.affix`/`nb_no.dict` in tsearch_data, made by
   pg_updatedicts). It knows inflections ("kommentarer" -> "kommentar") and splits compounds
   ("elevkontakt" -> elevkontakt, elev, kontakt). Words it does not know go on to
3. `norwegian_stem`, the Snowball stemmer the `norwegian` configuration uses.

Where the dictionary files are absent (a managed PostgreSQL that does not let us install them),
`handbook_nb` is a plain copy of `norwegian`: search works, without splitting compounds.

The stored search vectors are generated from this configuration, so it must exist before they
are created, and changing it means regenerating them (drop and re-add the generated columns).
Loading the dictionary costs each new database connection about half a second to a second:
keep connections persistent (CONN_MAX_AGE). Behind PgBouncer in transaction mode the server
connections are long-lived too, so the cost is paid once per server connection.
"""

from __future__ import annotations

CONFIG = "handbook_nb"
# ts_rank_cd's weights, in PostgreSQL's order {D, C, B, A} (text C, heading B, title A): what
# search ranks with and what the ranking lists (policies.ranking) are weighed by.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
DICTIONARY_FILE = "nb_no"
_TOKENS = "asciiword, word, hword, hword_part, hword_asciipart, asciihword"


def create_sql(config: str = CONFIG, dictionary_file: str = DICTIONARY_FILE) -> str:
    """SQL that creates `config`, with compound splitting when `dictionary_file` can be loaded."""
    return f"""
DO $$
BEGIN
    CREATE TEXT SEARCH CONFIGURATION {config} (COPY = pg_catalog.norwegian);
    BEGIN
        CREATE TEXT SEARCH DICTIONARY {config}_stop (
            TEMPLATE = pg_catalog.simple, StopWords = norwegian, Accept = false);
        CREATE TEXT SEARCH DICTIONARY {config}_ispell (
            TEMPLATE = pg_catalog.ispell, DictFile = {dictionary_file},
            AffFile = {dictionary_file}, StopWords = norwegian);
        ALTER TEXT SEARCH CONFIGURATION {config} ALTER MAPPING FOR {_TOKENS}
            WITH {config}_stop, {config}_ispell, pg_catalog.norwegian_stem;
    EXCEPTION WHEN config_file_error OR undefined_file THEN
        -- The block's dictionaries are rolled back; the configuration stays a copy of norwegian.
        RAISE NOTICE 'Text search dictionary % not found: % without compound splitting',
            '{dictionary_file}', '{config}';
    END;
END $$;
"""


def drop_sql(config: str = CONFIG) -> str:
    return (
        f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {config}; "
        f"DROP TEXT SEARCH DICTIONARY IF EXISTS {config}_ispell; "
        f"DROP TEXT SEARCH DICTIONARY IF EXISTS {config}_stop;"
    )


def splits_compounds(cursor, config: str = CONFIG) -> bool:
    """True when `config` uses the Ispell dictionary (the files were there when it was made)."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_ts_config_map m JOIN pg_ts_config c ON c.oid = m.mapcfg "
        "JOIN pg_ts_dict d ON d.oid = m.mapdict WHERE c.cfgname = %s AND d.dictname = %s)",
        [config, f"{config}_ispell"],
    )
    return cursor.fetchone()[0]
