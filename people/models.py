"""Who is who, and where: organisations (kommuner), their tree of units, and people.

Writes live in people.units (and the HR import); this module holds fields, database constraints and
read-only QuerySet methods.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from policies.models import Policy


# First path segments the site uses itself; an organisation can never take one of them.
RESERVED_SLUGS = [
    "admin", "logg-inn", "logg-ut", "sok", "meg", "oversikt", "redaksjon", "ressurser", "static",
    "media", "tilgjengelighet", "markdownx", "api", "helse", "sprak",
]  # fmt: skip


def interface_languages() -> list[tuple[str, str]]:
    """The languages the interface has catalogues for (settings.LANGUAGES), as field choices."""
    return list(settings.LANGUAGES)


class Organisation(models.Model):
    """A kommune. Everything else belongs to exactly one."""

    slug = models.SlugField(_("adresse"), max_length=60, unique=True)
    name = models.CharField(_("navn"), max_length=200, unique=True)
    leaver_retention_months = models.PositiveSmallIntegerField(
        _("oppbevaring etter fratreden (måneder)"),
        default=60,
        help_text=(
            _(
                "Hvor lenge navnet til en som har sluttet, står på bekreftelsene hans eller hennes. "
                "Deretter pseudonymiseres personen: bekreftelsene beholdes som dokumentasjon, men uten "
                "navn, e-post og ansattnummer. Standard er 60 måneder (5 år); se docs/personvern.md."
            )
        ),
    )
    language = models.CharField(
        _("målform"),
        max_length=10,
        blank=True,
        choices=interface_languages,
        help_text=_(
            "Kommunens administrasjonsspråk. Tom betyr språknøytral: hver leser får sin "
            "egen målform eller nettleserens."
        ),
    )
    # The kommune's own look, set by its editors under /redaksjon/kommune/ (people/branding.py).
    accent_color = models.CharField(
        _("aksentfarge"),
        max_length=7,
        blank=True,
        help_text=_("Heksadesimal fargekode, for eksempel #1a5e9a. Må gi kontrast 4,5:1 mot hvit."),
    )
    logo = models.ImageField(_("kommunevåpen eller logo"), upload_to="kommuner/", blank=True)
    contact = models.CharField(
        _("kontakt"),
        max_length=200,
        blank=True,
        help_text=_("For eksempel «Servicetorget, Rådhuset»."),
    )
    contact_email = models.EmailField(_("e-post"), blank=True)
    contact_phone = models.CharField(_("telefon"), max_length=30, blank=True)
    privacy_url = models.URLField(_("personvernerklæring"), blank=True)
    look_updated_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("utseende sist endret")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("kommune")
        verbose_name_plural = _("kommuner")
        constraints = [
            # In any letter case: "Admin" must not shadow /admin/ either.
            models.CheckConstraint(
                condition=~Q(slug__iregex=rf"^({'|'.join(RESERVED_SLUGS)})$"),
                name="organisation_slug_not_reserved",
                violation_error_message="Adressen er reservert for nettstedet selv. Velg en annen.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UnitQuerySet(models.QuerySet):
    def subtree_of(self, units) -> UnitQuerySet:
        """The given units and every unit below them: the one definition of "with sub-units".

        `units` are Unit objects or their materialised paths. The database guarantees every path
        is a well-formed chain of ids (see Unit.Meta), so a prefix match never matches too much.
        """
        condition = Q(pk__in=[])
        for unit in units:
            condition |= Q(path__startswith=unit if isinstance(unit, str) else unit.path)
        return self.filter(condition)


_UNIT_PATH_FROM_PARENT = """
DECLARE
    parent people_unit%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.organisation_id <> OLD.organisation_id
       AND EXISTS (SELECT 1 FROM people_unit WHERE parent_id = NEW.id) THEN
        RAISE EXCEPTION 'A unit with sub-units cannot change organisation (unit %)', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.parent_id IS NULL THEN
        NEW.path := '/' || NEW.id || '/';
        RETURN NEW;
    END IF;
    SELECT * INTO parent FROM people_unit WHERE id = NEW.parent_id;
    IF parent.organisation_id <> NEW.organisation_id THEN
        RAISE EXCEPTION 'A unit and its parent must belong to the same organisation (unit %)', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF parent.path LIKE '%/' || NEW.id || '/%' THEN
        RAISE EXCEPTION 'A unit cannot be moved below itself (unit %)', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.path := parent.path || NEW.id || '/';
    RETURN NEW;
END;
"""


class Unit(models.Model):
    """An enhet: a node in an organisation's tree of departments.

    `path` is the materialised path of primary keys ("/3/17/42/"), so that "this unit and its
    sub-units" is one indexed prefix match. PostgreSQL keeps it (the triggers below): it is
    computed from the parent on every insert and parent change, and a move rewrites the paths of
    the whole subtree in the same statement, whoever writes (people.units, the admin, the HR
    import, a shell). The same triggers refuse a parent in another organisation and a cycle.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="units", verbose_name=_("organisasjon")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("overordnet enhet"),
    )
    name = models.CharField(_("navn"), max_length=200)
    path = models.CharField(
        max_length=500, blank=True, editable=False, verbose_name=_("plass i enhetstreet")
    )

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("enhet")
        verbose_name_plural = _("enheter")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "parent", "name"],
                name="unit_unique_name_under_parent",
                nulls_distinct=False,
            ),
            # Never empty or malformed: an empty path would make "sub-units" the whole kommune.
            models.CheckConstraint(
                condition=Q(path__regex=r"^/([0-9]+/)+$"), name="unit_path_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["path"], name="unit_path_idx", opclasses=["varchar_pattern_ops"])
        ]
        triggers = [
            pgtrigger.Trigger(
                name="unit_path_from_parent",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert
                | pgtrigger.UpdateOf("parent_id", "organisation_id", "path"),
                func=_UNIT_PATH_FROM_PARENT,
            ),
            pgtrigger.Trigger(
                name="unit_subtree_follows_move",
                when=pgtrigger.After,
                # Any UPDATE: a column-specific trigger would not see the path the trigger above
                # sets when only parent_id is in the statement.
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition("OLD.path IS DISTINCT FROM NEW.path"),
                func=(
                    "UPDATE people_unit SET path = NEW.path || substr(path, length(OLD.path) + 1) "
                    "WHERE path LIKE OLD.path || '%' AND id <> NEW.id; RETURN NULL;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class PersonQuerySet(models.QuerySet):
    def active(self) -> PersonQuerySet:
        return self.filter(is_active=True)

    def in_audience_of(self, policy: Policy) -> PersonQuerySet:
        """The people who must confirm `policy` now: those with a row in policies.Obligation."""
        from policies.models import Obligation

        return self.filter(pk__in=Obligation.objects.filter(policy=policy).values("person_id"))


class PersonManager(UserManager.from_queryset(PersonQuerySet)):
    pass


class Person(AbstractUser):
    """Someone who reads, confirms, manages or edits. Leavers are deactivated, never deleted."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("kommune"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("enhet"),
    )
    unit_since = models.DateField(
        _("i enheten siden"),
        null=True,
        blank=True,
        help_text=_("Når personen kom til enheten. Fristen for å bekrefte regnes tidligst herfra."),
    )
    employee_number = models.CharField(_("ansattnummer"), max_length=40, blank=True)
    left_on = models.DateField(
        _("sluttet"),
        null=True,
        blank=True,
        help_text=_(
            "Når personen ble deaktivert. Oppbevaringstiden etter fratreden regnes herfra."
        ),
    )
    pseudonymised_at = models.DateTimeField(
        _("pseudonymisert"), null=True, blank=True, editable=False
    )
    language = models.CharField(
        _("målform"),
        max_length=10,
        blank=True,
        choices=interface_languages,
        help_text=_("Personens eget valg. Tom betyr kommunens målform."),
    )
    is_elected_official = models.BooleanField(_("folkevalgt"), default=False)

    class Notices(models.TextChoices):
        AT_ONCE = "straks", gettext_lazy("E-post med en gang")
        WEEKLY = "ukentlig", gettext_lazy("Bare i ukesoversikten")

    change_notices = models.CharField(
        _("varsel om vesentlige endringer"),
        max_length=10,
        choices=Notices.choices,
        default=Notices.AT_ONCE,
        help_text=_("Når en retningslinje personen må bekrefte endres vesentlig."),
    )
    is_editor = models.BooleanField(
        _("redaktør"),
        default=False,
        help_text=_(
            "Kommunikasjonsmedarbeider som kan skrive og publisere retningslinjer i sin kommune."
        ),
    )
    sees_whole_organisation = models.BooleanField(
        _("ser hele kommunen"),
        default=False,
        help_text=_(
            "For HR og kommunaldirektør: ser bekreftelser for alle enheter i egen kommune."
        ),
    )
    managed_units = models.ManyToManyField(
        Unit,
        blank=True,
        related_name="managers",
        verbose_name=_("leder for"),
        help_text=_("Enhetene personen leder. Underenheter følger med."),
    )

    objects = PersonManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("personer")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "employee_number"],
                condition=~Q(employee_number=""),
                name="person_unique_employee_number",
            ),
        ]
        # The manager dashboards select "active people of this organisation in these units".
        indexes = [
            models.Index(fields=["organisation", "unit", "is_active"], name="person_org_unit_idx"),
            # The overview counts the active people per class (unit, elected official or not)
            # from this index alone.
            models.Index(
                fields=["organisation", "unit", "is_elected_official"],
                condition=Q(is_active=True),
                name="person_class_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_manager(self) -> bool:
        if self.sees_whole_organisation:
            return True
        # Loaded with the person on every request (people.backends); asked otherwise.
        manages = getattr(self, "manages_units", None)
        return self.managed_units.exists() if manages is None else manages


def person_for_request(pk) -> Person | None:
    """The signed-in person of a request (people.backends), with what every page shows about
    them: their kommune, and `manages_units` (read by `is_manager`), so the page frame costs no
    query of its own. None when there is no such person.

    One statement written out once per process (`_for_request_sql`): building it with the ORM
    on every request cost more than running it.
    """
    sql, person_fields, organisation_fields = _for_request_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [Person._meta.pk.to_python(pk)])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(person_fields)
    person = Person.from_db(connection.alias, person_fields, row[:split])
    # As select_related("organisation") would: the kommune (or None) is already at hand.
    organisation = None
    if person.organisation_id is not None:
        organisation = Organisation.from_db(
            connection.alias, organisation_fields, row[split : split + len(organisation_fields)]
        )
    Person.organisation.field.set_cached_value(person, organisation)
    person.manages_units = row[-1]
    return person


@functools.cache
def _for_request_sql() -> tuple[str, list[str], list[str]]:
    """The statement of person_for_request, and the fields its columns fill, in order."""
    quote = connection.ops.quote_name
    person, organisation = Person._meta, Organisation._meta
    managed = Person.managed_units.through._meta
    columns = [f"p.{quote(f.column)}" for f in person.concrete_fields]
    columns += [f"o.{quote(f.column)}" for f in organisation.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)}, "  # noqa: S608 - model columns, no input
        f"EXISTS (SELECT 1 FROM {quote(managed.db_table)} m "
        f"WHERE m.{quote(managed.get_field('person').column)} = p.{quote(person.pk.column)}) "
        f"FROM {quote(person.db_table)} p "
        f"LEFT JOIN {quote(organisation.db_table)} o "
        f"ON o.{quote(organisation.pk.column)} = p.{quote(person.get_field('organisation').column)} "
        f"WHERE p.{quote(person.pk.column)} = %s"
    )
    return (
        sql,
        [f.attname for f in person.concrete_fields],
        [f.attname for f in organisation.concrete_fields],
    )
