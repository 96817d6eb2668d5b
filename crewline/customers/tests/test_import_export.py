import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crewline.customers import importing
from crewline.customers.models import Contact, Customer, Site
from crewline.factories import CustomerFactory, SiteFactory

HEADER = ",".join(importing.COLUMNS)

GOOD = "\n".join([
    HEADER,
    "Maple Dental,commercial,office@maple.test,555-0100,,ACC-1,Rosa Diaz,rosa@maple.test,"
    "555-0101,Main clinic,12 Maple Ave,,Springfield,IL,62701,US,39.781721,-89.650148,Gate 4412",
    "Maple Dental,commercial,,,,ACC-1,,,,Warehouse,400 Industrial Rd,,Springfield,IL,62703,"
    "US,,,",
    "John Smith,residential,john@example.com,555-0199,,,,,,,88 Oak Street,,Springfield,IL,"
    "62704,US,,,Dog in the yard",
]) + "\n"

BAD = HEADER + """
,residential,,,,,,,,,1 A St,,Town,,,,,,
Bad Email,residential,nope,,,,,,,,1 B St,,Town,,,,,,
Bad Lat,residential,,,,,,,,,1 C St,,Town,,,,north,10,
Alien,martian,,,,,,,,,1 D St,,Town,,,,,,
No City,residential,,,,,,,,,1 E St,,,,,,,,
Good One,residential,,,,,,,,,1 F St,,Town,,,,,,
"""


def upload(client, content, name="customers.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(reverse("customers:import"),
                       {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def confirm(client):
    return client.post(reverse("customers:import_confirm"), {"action": "import"})


def test_it_previews_without_writing_then_imports_on_confirm(office_client, org):
    response = upload(office_client, GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:import_preview")
    preview = office_client.get(response["Location"])
    plan = preview.context["plan"]
    assert (plan.new_customers, plan.new_sites, plan.new_contacts) == (2, 3, 1)
    assert not Customer.objects.exists()
    response = confirm(office_client)
    assert response.status_code == 302
    maple = Customer.objects.get(organization=org, external_ref="ACC-1")
    assert maple.kind == "commercial" and maple.email == "office@maple.test"
    assert maple.sites.count() == 2
    assert str(maple.sites.get(name="Main clinic").latitude) == "39.781721"
    assert maple.contacts.get().is_primary
    assert Customer.objects.get(name="John Smith").sites.get().access_notes == "Dog in the yard"


def test_it_lists_an_error_per_bad_row_and_imports_only_the_good_ones(office_client, org):
    upload(office_client, BAD)
    preview = office_client.get(reverse("customers:import_preview"))
    errors = {(e.row, e.column): e.message for e in preview.context["parsed"].errors}
    assert errors[(2, "customer_name")] == "Missing customer name."
    assert (3, "email") in errors
    assert (4, "latitude") in errors and "north" in errors[(4, "latitude")]
    assert "Unknown type" in errors[(5, "customer_type")]
    assert "Missing city" in errors[(6, "city")]
    assert preview.context["error_rows"] == 5
    html = preview.content.decode()
    assert "Missing customer name." in html and "Rows with errors" not in html
    confirm(office_client)
    assert list(Customer.objects.values_list("name", flat=True)) == ["Good One"]


def test_its_preview_quotes_the_bad_value_and_names_the_rows_customer(office_client, org):
    upload(office_client, BAD)
    preview = office_client.get(reverse("customers:import_preview"))
    [email] = [e for e in preview.context["parsed"].errors if e.column == "email"]
    assert (email.row, email.value, email.label) == (3, "nope", "Bad Email")
    html = preview.content.decode()
    row = html[html.index('<td class="row-no">3'):]
    row = row[:row.index("</tr>")]
    assert "Bad Email" in row and "Enter a valid email address." in row
    assert "The file has “nope”." in row
    # A message that already quotes the value does not say it twice.
    row = html[html.index('<td class="row-no">5'):]
    row = row[:row.index("</tr>")]
    assert row.count("martian") == 1 and "Alien" in row


def test_it_reads_a_bom_semicolons_and_header_case(office_client, org):
    content = ("\ufeffCustomer_Name;Customer Type;CITY;Address_Line1;Latitude;Longitude\n"
               "Café Zoë;Commercial;Lyon;3 Rue X;45,76;4,83\n")
    upload(office_client, content)
    preview = office_client.get(reverse("customers:import_preview"))
    assert not preview.context["parsed"].errors
    confirm(office_client)
    customer = Customer.objects.get()
    assert customer.name == "Café Zoë" and customer.kind == "commercial"
    site = customer.sites.get()
    assert (site.city, str(site.latitude)) == ("Lyon", "45.760000")


def test_it_does_not_duplicate_when_the_same_file_is_imported_twice(office_client, org):
    upload(office_client, GOOD)
    confirm(office_client)
    upload(office_client, GOOD)
    preview = office_client.get(reverse("customers:import_preview"))
    plan = preview.context["plan"]
    assert (plan.new_customers, plan.new_sites, plan.new_contacts) == (0, 0, 0)
    assert plan.matched_customers == 2
    assert "Nothing new to import" in preview.content.decode()
    confirm(office_client)
    assert Customer.objects.count() == 2
    assert Site.objects.count() == 3
    assert Contact.objects.count() == 1


def test_it_adds_sites_to_an_existing_customer_by_name_or_reference(office_client, org):
    by_name = CustomerFactory(organization=org, name="John Smith", external_ref="")
    by_ref = CustomerFactory(organization=org, name="Maple Dental Group", external_ref="ACC-1")
    SiteFactory(customer=by_ref, address_line1="12 MAPLE AVE", city="springfield")
    upload(office_client, GOOD)
    confirm(office_client)
    assert Customer.objects.count() == 2
    assert by_name.sites.count() == 1
    assert by_ref.sites.count() == 2  # the clinic was already there
    by_ref.refresh_from_db()
    assert by_ref.name == "Maple Dental Group"  # existing details are kept


def test_it_groups_rows_in_the_file_and_skips_repeated_sites(office_client, org):
    content = HEADER + """
acme,,,,,,,,,,1 A St,,Town,,,,,,
ACME,,,,,,,,,,1 a st,,town,,,,,,
Acme,,,,,,,,,,2 B St,,Town,,,,,,
"""
    upload(office_client, content)
    confirm(office_client)
    customer = Customer.objects.get()
    assert customer.sites.count() == 2


def test_it_refuses_an_empty_file(office_client):
    response = upload(office_client, b"")
    assert response.status_code == 200
    assert "file" in response.context["form"].errors


def test_it_refuses_a_header_without_rows(office_client):
    response = upload(office_client, HEADER + "\n")
    assert "no rows" in str(response.context["form"].errors["file"])


def test_it_refuses_a_file_that_is_not_csv(office_client):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 50
    response = upload(office_client, png, name="photo.png")
    assert "does not look like a CSV" in str(response.context["form"].errors["file"])
    response = upload(office_client, "company,city\nX,Y\n")
    assert "customer_name" in str(response.context["form"].errors["file"])
    response = upload(office_client, "customer_name\nJos\xe9\n".encode("latin-1"))
    assert "UTF-8" in str(response.context["form"].errors["file"])
    assert not Customer.objects.exists()


def test_it_refuses_a_file_over_5_mb(office_client):
    big = HEADER + "\n" + ("Someone,,,,,,,,,,1 A St,,Town,,,,,,\n" * 150_000)
    assert len(big) > importing.MAX_UPLOAD_BYTES
    response = upload(office_client, big)
    assert "larger than 5 MB" in str(response.context["form"].errors["file"])


def test_it_keeps_the_upload_on_the_server_not_in_the_form(office_client, org, settings):
    upload(office_client, GOOD)
    token = office_client.session["customers_import_token"]
    assert importing.pending_tokens(organization=org) == [token]
    # A forged field is ignored: only the upload kept for this session is applied.
    office_client.post(reverse("customers:import_confirm"),
                       {"action": "import", "rows": "Evil Corp"})
    assert not Customer.objects.filter(name="Evil Corp").exists()
    assert importing.pending_tokens(organization=org) == []
    response = confirm(office_client)
    assert response["Location"] == reverse("customers:import")


def test_it_cancels_without_writing(office_client, org):
    upload(office_client, GOOD)
    office_client.post(reverse("customers:import_confirm"), {"action": "cancel"})
    assert not Customer.objects.exists()
    assert importing.pending_tokens(organization=org) == []


def test_it_keeps_the_upload_in_the_bucket_so_any_web_process_can_confirm_it(
        s3_media, office_client, org, settings):
    upload(office_client, GOOD)
    token = office_client.session["customers_import_token"]
    listed = s3_media.list_objects_v2(Bucket=s3_media.bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"imports/org-{org.pk}/{token}.json"]
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.json"))
    assert confirm(office_client).status_code == 302
    assert Customer.objects.filter(organization=org, name="Maple Dental").exists()
    assert s3_media.list_objects_v2(Bucket=s3_media.bucket).get("Contents", []) == []


def test_it_drops_previews_left_for_a_day(org, time_machine):
    parsed = importing.parse_csv(GOOD.encode())
    old = importing.pending_save(organization=org, result=parsed)
    time_machine.move_to(timezone.now() + dt.timedelta(hours=23))
    kept = importing.pending_save(organization=org, result=parsed)
    assert sorted(importing.pending_tokens(organization=org)) == sorted([old, kept])
    # Both files were written (by the disk's clock, which the test does not move) more than a
    # day before the time it is now.
    time_machine.move_to(timezone.now() + dt.timedelta(hours=2))
    recent = importing.pending_save(organization=org, result=parsed)
    assert importing.pending_tokens(organization=org) == [recent]
    assert importing.pending_load(organization=org, token=old) is None


def test_it_scopes_a_pending_import_to_its_organization(office, outsider, org, other_org):
    parsed = importing.parse_csv(GOOD.encode())
    token = importing.pending_save(organization=org, result=parsed)
    assert importing.pending_load(organization=other_org, token=token) is None
    assert importing.pending_load(organization=org, token="../../etc/passwd") is None
    assert importing.pending_load(organization=org, token=token) is not None


def test_it_serves_a_template_that_imports_cleanly(office_client, org):
    response = office_client.get(reverse("customers:import_template"))
    assert response["Content-Type"].startswith("text/csv")
    upload(office_client, response.content)
    preview = office_client.get(reverse("customers:import_preview"))
    assert not preview.context["parsed"].errors
    assert preview.context["plan"].new_customers == 2


def _export(client, query=""):
    response = client.get(reverse("customers:export") + query)
    assert response.streaming
    return b"".join(response.streaming_content)


def test_it_exports_the_filtered_list_with_one_row_per_site(office_client, org, other_org):
    maple = CustomerFactory(organization=org, name="Maple Dental")
    SiteFactory(customer=maple, address_line1="1 A St")
    SiteFactory(customer=maple, address_line1="2 B St")
    CustomerFactory(organization=org, name="Zed")
    CustomerFactory(organization=other_org, name="Rival customer")
    rows = list(csv.DictReader(io.StringIO(_export(office_client).decode("utf-8-sig"))))
    assert [r["customer_name"] for r in rows] == ["Maple Dental", "Maple Dental", "Zed"]
    assert {r["address_line1"] for r in rows} == {"1 A St", "2 B St", ""}
    rows = list(csv.DictReader(io.StringIO(
        _export(office_client, "?q=zed").decode("utf-8-sig"))))
    assert [r["customer_name"] for r in rows] == ["Zed"]


@pytest.fixture
def second_office_client(other_org):
    from django.test import Client

    from crewline.core.models import Role
    from crewline.factories import MemberFactory
    member = MemberFactory(organization=other_org, role=Role.OFFICE)
    client = Client()
    client.force_login(member.user)
    return client


def test_it_round_trips_an_export_through_the_import(office_client, second_office_client, org,
                                                   other_org):
    upload(office_client, GOOD)
    confirm(office_client)
    exported = _export(office_client)

    # Into an empty organization: the same customers, sites and contacts.
    response = upload(second_office_client, exported)
    assert response.status_code == 302
    preview = second_office_client.get(reverse("customers:import_preview"))
    assert not preview.context["parsed"].errors
    confirm(second_office_client)

    def shape(organization):
        return sorted(
            (c.name, c.kind, c.email, c.phone, c.external_ref,
             sorted((s.name, s.address_line1, s.city, s.postal_code, str(s.latitude),
                     s.access_notes) for s in c.sites.all()),
             sorted((p.name, p.email, p.is_primary) for p in c.contacts.all()))
            for c in Customer.objects.filter(organization=organization))

    assert shape(other_org) == shape(org)

    # Back into the organization it came from: nothing changes.
    upload(office_client, exported)
    confirm(office_client)
    assert Customer.objects.filter(organization=org).count() == 2
    assert Site.objects.filter(organization=org).count() == 3


def test_it_exports_in_constant_queries(office_client, org, django_assert_max_num_queries):
    for i in range(30):
        SiteFactory(customer=CustomerFactory(organization=org, name=f"C{i}"))
    with django_assert_max_num_queries(10):
        body = _export(office_client)
    assert body.count(b"\n") == 31
