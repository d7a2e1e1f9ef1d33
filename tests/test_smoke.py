"""Does the panel start, answer /healthz and ask for sign-in?"""


def test_healthz_reports_database(client):
    """Does /healthz answer 200 with the database state, without sign-in?"""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}


def test_pages_need_sign_in(client):
    """Is every panel page closed to an anonymous visitor?"""
    for url in ("/", "/family/", "/case/", "/audit_record/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_admin_signs_in(login_as, client):
    """Can an administrator sign in and see the Russian home page?"""
    login_as("admin")
    page = client.get("/").get_data(as_text=True)
    assert "Здравствуйте" in page
