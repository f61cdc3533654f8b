from locust import HttpUser, task, constant


class User(HttpUser):
    wait_time = constant(0.05)

    @task(3)
    def home(self):
        self.client.get("/", name="home")

    @task
    def flaky(self):
        self.client.get("/flaky", name="flaky")
